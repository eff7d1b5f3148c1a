// The page: sign in, show and edit /api/user/me, refresh, sign out.
import * as api from "./api.js";
import * as auth from "./auth.js";

const $ = (id) => document.getElementById(id);

function show(signedIn) {
  $("signed-in").hidden = !signedIn;
  $("signed-out").hidden = signedIn;
}

function fail(error) {
  $("error").textContent = error.message;
  $("error").hidden = false;
}

function render(me) {
  $("email").textContent = me.email;
  $("display_name").value = me.profile.display_name;
  $("bio").value = me.profile.bio;
  $("expires").textContent = `(access token until ${new Date(auth.expiresAt()).toLocaleTimeString()})`;
  $("status").textContent = "Profile loaded.";
}

async function load() {
  render(await api.getMe());
}

async function save(event) {
  event.preventDefault();
  $("field-errors").textContent = "";
  try {
    render(await api.patchMe({ display_name: $("display_name").value, bio: $("bio").value }));
    $("status").textContent = "Saved.";
  } catch (error) {
    $("field-errors").textContent = Object.entries(error.errors || {})
      .map(([name, messages]) => `${name}: ${messages.join(" ")}`)
      .join("; ");
    fail(error);
  }
}

async function main() {
  const config = await auth.loadConfig();
  api.configure(config);
  $("sign-in").addEventListener("click", () => auth.signIn().catch(fail));
  $("sign-out").addEventListener("click", () => auth.signOut().catch(fail));
  $("reload").addEventListener("click", () => load().catch(fail));
  $("refresh").addEventListener("click", async () => {
    try {
      await auth.refresh();
      $("status").textContent = "Tokens refreshed.";
      $("expires").textContent = `(access token until ${new Date(auth.expiresAt()).toLocaleTimeString()})`;
    } catch (error) {
      fail(error);
    }
  });
  $("profile-form").addEventListener("submit", save);
  if (await auth.completeSignIn()) {
    show(true);
    await load();
  } else {
    show(false);
    $("status").textContent = "Signed out.";
  }
}

main().catch((error) => {
  show(false);
  fail(error);
  $("status").textContent = "Signed out.";
});
