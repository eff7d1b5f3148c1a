"""OpenAPI 3.1 description of the JSON API, served at /api/schema."""

from __future__ import annotations

from profiles.models import Moderation, Profile
from profiles.services import EDITABLE_FIELDS

_problem = {
    "description": "An RFC 9457 problem document; RFC 6750 `error` on authentication failures.",
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}
_unauthorized = {
    **_problem,
    "description": "Missing, malformed, forged, expired or revoked access token "
    '(`WWW-Authenticate: Bearer error="invalid_token"`).',
}
_forbidden = {**_problem, "description": "The token lacks the required scope (`insufficient_scope`)."}

_profile_properties = {
    "display_name": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "\\S"},
    "handle": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{1,28}[a-z0-9]$"},
    "college": {"type": "string", "maxLength": 100},
    "role": {"type": "string", "readOnly": True},
    "bio": {"type": "string", "maxLength": 2000},
    "pronouns": {"type": "string", "maxLength": 40},
    "location": {"type": "string", "maxLength": 100},
    "website": {
        "type": "string",
        "maxLength": 200,
        "anyOf": [{"const": ""}, {"format": "uri", "pattern": "^[hH][tT][tT][pP][sS]?://"}],
        "description": "An http(s) address, or empty.",
    },
    "visibility": {"type": "string", "enum": [v.value for v in Profile.Visibility]},
    "avatar": {
        "type": ["string", "null"],
        "format": "uri",
        "readOnly": True,
        "description": "Presigned URL of the 512-pixel WebP avatar (valid up to an hour); null without one.",
    },
    "version": {"type": "integer", "readOnly": True},
    "sync_pending": {"type": "boolean", "readOnly": True},
    "updated_at": {"type": "string", "format": "date-time", "readOnly": True},
}

SCHEMA = {
    "openapi": "3.1.0",
    "info": {
        "title": "Profiles API",
        "version": "1.0.0",
        "description": "Authenticate with `Authorization: Bearer <Cognito access token>`; the token is "
        "verified locally (RS256, JWKS by kid, iss, token_use=access, client_id, exp/iat, scope). "
        "Browser session cookies are not accepted.",
    },
    "servers": [{"url": "/"}],
    "security": [{"cognito": ["aws.cognito.signin.user.admin"]}],
    "paths": {
        "/api/user/me": {
            "get": {
                "summary": "The caller's user and profile",
                "responses": {
                    "200": {
                        "description": "The caller; the ETag is the profile version.",
                        "headers": {"ETag": {"schema": {"type": "string"}}},
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Me"}}},
                    },
                    "401": _unauthorized,
                    "403": _forbidden,
                },
            },
            "patch": {
                "summary": "Change editable profile fields (name and college also go to Cognito)",
                "parameters": [
                    {
                        "name": "If-Match",
                        "in": "header",
                        "required": False,
                        "description": "The ETag the change is based on; a newer version gives 412.",
                        "schema": {"type": "string"},
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ProfilePatch"}}
                    },
                },
                "responses": {
                    "200": {
                        "description": "Saved",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Me"}}},
                    },
                    "400": {
                        **_problem,
                        "description": "Refused fields, with per-field messages in `errors`.",
                    },
                    "401": _unauthorized,
                    "403": _forbidden,
                    "412": {**_problem, "description": "The profile changed since the If-Match version."},
                    "415": {**_problem, "description": "The body is not application/json."},
                },
            },
        },
        "/api/users/": {
            "get": {
                "summary": "Every active user, for members of the administrators' group",
                "parameters": [
                    {
                        "name": "page",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 100000},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "A page of 50 users",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/UserPage"}}
                        },
                    },
                    "400": {**_problem, "description": "page is not an integer from 1 to 100000."},
                    "401": _unauthorized,
                    "403": {**_problem, "description": "Not a member of the administrators' group."},
                },
            }
        },
        "/api/health": {
            "get": {"summary": "Liveness", "security": [], "responses": {"200": {"description": "ok"}}}
        },
    },
    "components": {
        "securitySchemes": {
            "cognito": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT (Cognito access token)",
            }
        },
        "schemas": {
            "Profile": {"type": "object", "properties": _profile_properties},
            "ProfilePatch": {
                "type": "object",
                "additionalProperties": False,
                "properties": {name: _profile_properties[name] for name in EDITABLE_FIELDS},
            },
            "Me": {
                "type": "object",
                "properties": {
                    "sub": {"type": "string"},
                    "email": {"type": "string", "description": "The last verified address (or empty)."},
                    "pending_email": {
                        "type": ["string", "null"],
                        "description": "An address set in Cognito, not verified yet; never shown to others.",
                    },
                    "groups": {"type": "array", "items": {"type": "string"}},
                    "profile": {"$ref": "#/components/schemas/Profile"},
                    "moderation": {"$ref": "#/components/schemas/OwnModeration"},
                },
                "required": ["sub", "email", "pending_email", "groups", "profile", "moderation"],
            },
            "OwnModeration": {
                "type": "object",
                "readOnly": True,
                "description": "What moderators did to the caller's own profile (as /me/ shows it: "
                "the moderator's role, never who they are), and whether it is hidden from others.",
                "properties": {
                    "hidden": {"type": "boolean"},
                    "hidden_at": {"type": ["string", "null"], "format": "date-time"},
                    "hidden_reason": {"type": ["string", "null"]},
                    "actions": {
                        "type": "array",
                        "maxItems": 50,
                        "description": "Newest first; the latest 50.",
                        "items": {
                            "type": "object",
                            "properties": {
                                "action": {"type": "string", "enum": [a.value for a in Moderation.Action]},
                                "label": {"type": "string"},
                                "by_role": {"type": "string"},
                                "reason": {"type": "string"},
                                "at": {"type": "string", "format": "date-time"},
                            },
                            "required": ["action", "label", "by_role", "reason", "at"],
                            "additionalProperties": False,
                        },
                    },
                },
                "required": ["hidden", "hidden_at", "hidden_reason", "actions"],
                "additionalProperties": False,
            },
            "UserPage": {
                "type": "object",
                "properties": {
                    "results": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "sub": {"type": ["string", "null"]},
                                "email": {"type": "string"},
                                "is_staff": {"type": "boolean"},
                                "profile": {"$ref": "#/components/schemas/Profile"},
                            },
                        },
                    },
                    "page": {"type": "integer"},
                    "next": {"type": ["string", "null"]},
                    "previous": {"type": ["string", "null"]},
                },
            },
            "Problem": {
                "type": "object",
                "properties": {
                    "type": {"type": "string"},
                    "title": {"type": "string"},
                    "status": {"type": "integer"},
                    "detail": {"type": "string"},
                    "error": {"type": "string"},
                    "errors": {
                        "type": "object",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
        },
    },
}
