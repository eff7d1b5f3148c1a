// The Django app's JSON API, called across origins with the access token (CORS, no cookies).
import { accessToken, refresh } from "./auth.js";

let apiOrigin = null;
let etag = null;

export function configure(config) {
  apiOrigin = config.apiOrigin;
}

async function call(method, path, body) {
  const send = () =>
    fetch(`${apiOrigin}${path}`, {
      method,
      credentials: "omit",
      headers: {
        Authorization: `Bearer ${accessToken()}`,
        ...(body ? { "Content-Type": "application/json", ...(etag ? { "If-Match": etag } : {}) } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
  let response = await send();
  if (response.status === 401) {
    // Expired (or revoked) access token: one refresh, one retry.
    await refresh();
    response = await send();
  }
  const data = await response.json();
  if (!response.ok) {
    const error = new Error(data.detail || data.title || `HTTP ${response.status}`);
    error.errors = data.errors || {};
    throw error;
  }
  etag = response.headers.get("ETag");
  return data;
}

export const getMe = () => call("GET", "/api/user/me");
export const patchMe = (changes) => call("PATCH", "/api/user/me", changes);
