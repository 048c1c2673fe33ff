"""Schemathesis hook for scripts/schemathesis: authenticates every generated request.

The script logs in once per run to check the credentials; this hook logs in again (a new
session) at the start of the run and every 10 minutes, because access tokens live at most
15 minutes and a full run is longer. The grant (a password or client-credentials body for
POST /api/v1/auth/token) comes from TRYGG_ST_GRANT as JSON, the service from TRYGG_ST_URL.
Each request gets `Authorization: Bearer <access_token>`; schemathesis's `ignored_auth` check
still sends its own unauthenticated variants.
"""

import json
import os

import requests
import schemathesis


@schemathesis.auth(refresh_interval=600)
class TryggBearer:
    def get(self, case, ctx):
        url = os.environ["TRYGG_ST_URL"].rstrip("/") + "/api/v1/auth/token"
        response = requests.post(url, json=json.loads(os.environ["TRYGG_ST_GRANT"]), timeout=30)
        response.raise_for_status()
        return response.json()["access_token"]

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
