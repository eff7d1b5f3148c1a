// Sign-in through the Cognito hosted UI with the authorization code flow and PKCE (RFC 7636), for a
// public client: no secret. Tokens live in this module's memory only (never localStorage or
// sessionStorage): a reload signs out. Only the PKCE verifier and `state` survive the redirect to
// the hosted UI, in sessionStorage, and are removed as soon as the app returns.

let config = null;
let tokens = null; // {access_token, id_token, refresh_token, expires_at}
const PENDING = "spa.pkce";

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString(size = 32) {
  return base64url(crypto.getRandomValues(new Uint8Array(size)));
}

async function challengeFor(verifier) {
  return base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
}

export async function loadConfig() {
  const response = await fetch("/config.json", { cache: "no-store" });
  if (!response.ok) throw new Error("config.json could not be loaded");
  config = await response.json();
  return config;
}

export function accessToken() {
  return tokens ? tokens.access_token : null;
}

export function expiresAt() {
  return tokens ? tokens.expires_at : null;
}

export function claims() {
  if (!tokens || !tokens.id_token) return null;
  // Display only: the API verifies the access token itself; the ID token is not sent anywhere.
  const payload = tokens.id_token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(payload));
}

export async function signIn() {
  const verifier = randomString(48);
  const state = randomString(16);
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state }));
  const query = new URLSearchParams({
    response_type: "code",
    client_id: config.clientId,
    redirect_uri: config.redirectUri,
    scope: config.scope,
    state,
    code_challenge: await challengeFor(verifier),
    code_challenge_method: "S256",
  });
  location.assign(`${config.authorizeEndpoint}?${query}`);
}

async function tokenRequest(form) {
  const response = await fetch(config.tokenEndpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ client_id: config.clientId, ...form }),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(`token endpoint: ${body.error || response.status}`);
  return body;
}

function keep(body) {
  tokens = {
    access_token: body.access_token,
    id_token: body.id_token || (tokens && tokens.id_token),
    refresh_token: body.refresh_token || (tokens && tokens.refresh_token),
    expires_at: Date.now() + body.expires_in * 1000,
  };
}

// Back from the hosted UI: ?code=&state= (or ?error=). Returns true when signed in.
export async function completeSignIn() {
  const params = new URLSearchParams(location.search);
  if (!params.has("code") && !params.has("error")) return false;
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, "", "/"); // the code must not stay in the address bar or history
  if (params.has("error")) throw new Error(`sign-in failed: ${params.get("error")}`);
  if (!pending || pending.state !== params.get("state")) throw new Error("sign-in failed: state mismatch");
  keep(
    await tokenRequest({
      grant_type: "authorization_code",
      code: params.get("code"),
      redirect_uri: config.redirectUri,
      code_verifier: pending.verifier,
    }),
  );
  return true;
}

export async function refresh() {
  if (!tokens) throw new Error("not signed in");
  keep(await tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh_token }));
}

export async function signOut() {
  const refreshToken = tokens && tokens.refresh_token;
  tokens = null;
  if (refreshToken) {
    // Revoke the refresh token (and the access tokens it issued), then end the hosted-UI session.
    await fetch(config.revokeEndpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: refreshToken, client_id: config.clientId }),
    }).catch(() => undefined);
  }
  const query = new URLSearchParams({ client_id: config.clientId, logout_uri: config.redirectUri });
  location.assign(`${config.logoutEndpoint}?${query}`);
}
