"""A whole story told through a Python client generated from api-spec/openapi.yaml.

Run by clients/python/story.sh, which generates the client (`trygg_client`), serves the demo
story on a fresh database and sets TRYGG_STORY_URL and TRYGG_STORY_PASSWORD. Every call goes
through the generated client: no hand-written HTTP.

The story: a system administrator registers a partner system with children:read,
placements:read and changes:read; the system logs in with client_credentials, follows the
change feed to its end and reads a placement it names. A social secretary registers a girl,
places her in an HVB home of her unit with a free place, logs a visit against the girl's
contact schedule and finds the girl in her worklist. The system then sees the girl's
registration and placement in the feed and reads the placement.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import pkgutil
import secrets
import sys
import time
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import trygg_client.api
from trygg_client import AuthenticatedClient, Client
from trygg_client.api.auth import issue_token
from trygg_client.api.changes import list_changes
from trygg_client.api.children import get_child, register_child
from trygg_client.api.contacts import (
    get_contact_schedule,
    get_worklist,
    list_contact_schedules,
    record_visit,
)
from trygg_client.api.facilities import list_facilities
from trygg_client.api.me import get_me
from trygg_client.api.placements import get_placement, place_child
from trygg_client.api.service_accounts import create_service_account
from trygg_client.models import (
    AsylumStatus,
    ChangePage,
    ChildInput,
    CreateServiceAccount,
    FacilityKind,
    GuardianInput,
    NewVisit,
    NewVisitMode,
    PlacementInput,
    PlacementStatus,
    Problem,
    Scope,
    Sex,
    TokenRequest,
    TokenRequestGrantType,
)
from trygg_client.types import Response, Unset

URL = os.environ["TRYGG_STORY_URL"]
PASSWORD = os.environ["TRYGG_STORY_PASSWORD"]
# The change feed is sealed by the audit sequencer about every 100 ms; allow it some seconds.
FEED_WAIT_SECONDS = float(os.environ.get("TRYGG_STORY_FEED_WAIT", "10"))
STOCKHOLM = ZoneInfo("Europe/Stockholm")
PROBLEM = "urn:trygg:problem:"

started = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - started:5.1f}s] {message}", flush=True)


def fail(message: str) -> None:
    print(f"story: FAILED: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def expect(response: Response[Any], status: int, what: str) -> Any:
    """The parsed body of `response`, which must have `status`; else the story fails."""
    if response.status_code != status:
        parsed = response.parsed
        why = (
            f"{parsed.type_} {parsed.detail or ''} {parsed.errors or ''}"
            if isinstance(parsed, Problem)
            else response.content[:500]
        )
        fail(f"{what}: expected {status}, got {int(response.status_code)}: {why}")
    if response.parsed is None:
        fail(f"{what}: {status} with a body the client could not parse")
    return response.parsed


def expect_problem(response: Response[Any], status: int, what: str) -> Problem:
    problem = expect(response, status, what)
    if not isinstance(problem, Problem) or not problem.type_.startswith(PROBLEM):
        fail(f"{what}: expected a problem+json answer, got {problem!r}")
    if response.headers.get("content-type") != "application/problem+json":
        fail(f"{what}: content type {response.headers.get('content-type')}")
    return problem


def check(condition: bool, message: str) -> None:
    if not condition:
        fail(message)


def token(body: TokenRequest, what: str) -> AuthenticatedClient:
    answer = expect(issue_token.sync_detailed(client=Client(base_url=URL), body=body), 200, what)
    check(answer.token_type == "Bearer", f"{what}: token_type {answer.token_type}")
    return AuthenticatedClient(base_url=URL, token=answer.access_token)


def person(username: str) -> AuthenticatedClient:
    return token(
        TokenRequest(
            grant_type=TokenRequestGrantType.PASSWORD, username=username, password=PASSWORD
        ),
        f"{username} logs in",
    )


def feed_page(system: AuthenticatedClient, after: str | None) -> ChangePage:
    kwargs: dict[str, Any] = {"limit": 1000}
    if after is not None:
        kwargs["after"] = after
    return expect(list_changes.sync_detailed(client=system, **kwargs), 200, "list changes")


def follow_feed(system: AuthenticatedClient, after: str | None) -> tuple[list[Any], str]:
    """Every change after `after` that is sealed now, and the cursor to go on from."""
    items: list[Any] = []
    while True:
        page = feed_page(system, after)
        items.extend(page.items)
        after = page.next_
        if not page.more:
            return items, after


def every_operation_imports() -> int:
    """Every generated operation module imports: the generator wrote working code for all."""
    modules = list(pkgutil.walk_packages(trygg_client.api.__path__, "trygg_client.api."))
    for module in modules:
        importlib.import_module(module.name)
    return sum(1 for m in modules if not m.ispkg)


def main() -> None:
    today = dt.datetime.now(STOCKHOLM).date()
    say(f"the generated client has {every_operation_imports()} operations, each of which imports")

    # --- A system administrator registers a partner system ---------------------------------------
    admin = person("admin")
    scopes = [Scope.CHILDRENREAD, Scope.PLACEMENTSREAD, Scope.CHANGESREAD]
    client_id = f"story-{secrets.token_hex(4)}"
    created = create_service_account.sync_detailed(
        client=admin,
        body=CreateServiceAccount(
            client_id=client_id, name="Partner system (client story)", scopes=scopes
        ),
    )
    account = expect(created, 201, "admin registers a service account")
    check(account.client_id == client_id, f"client id {account.client_id}")
    check(set(account.scopes) == set(scopes), f"scopes {account.scopes}")
    check(account.client_secret.startswith("cs_"), "the secret is shown once, starting cs_")
    check(
        created.headers.get("location") == f"/api/v1/service-accounts/{account.id}",
        f"Location {created.headers.get('location')}",
    )
    say(f"admin registered service account {client_id} with {', '.join(map(str, scopes))}")

    # --- The system logs in with client_credentials ----------------------------------------------
    def grant(scope: str | None = None) -> TokenRequest:
        body = TokenRequest(
            grant_type=TokenRequestGrantType.CLIENT_CREDENTIALS,
            client_id=client_id,
            client_secret=account.client_secret,
        )
        if scope is not None:
            body.scope = scope
        return body

    answer = expect(
        issue_token.sync_detailed(client=Client(base_url=URL), body=grant()), 200, "system logs in"
    )
    check(set(answer.scope.split()) == {str(s) for s in scopes}, f"granted scope {answer.scope}")
    check(not answer.refresh_token, "a system gets no refresh token")
    system = AuthenticatedClient(base_url=URL, token=answer.access_token)
    narrow = issue_token.sync_detailed(client=Client(base_url=URL), body=grant("changes:read"))
    narrowed = expect(narrow, 200, "system asks for changes:read alone")
    check(narrowed.scope == "changes:read", f"a narrowed token carries {narrowed.scope!r}")
    refused = issue_token.sync_detailed(client=Client(base_url=URL), body=grant("visits:read"))
    problem = expect_problem(refused, 400, "system asks for a scope it was not granted")
    say(
        f"system logged in (scope: {answer.scope}); asking for changes:read alone answers scope "
        f"{narrowed.scope!r}; an ungranted scope is {problem.type_}"
    )

    # --- It follows the change feed to its end and reads a placement it names --------------------
    backlog, cursor = follow_feed(system, None)
    check(len(backlog) > 0, "the demo story left changes in the feed")
    placements_seen = [c for c in backlog if str(c.entity_type) == "placement" and c.entity_id]
    check(len(placements_seen) > 0, "the feed names placements of the demo story")
    first = placements_seen[0]
    placement = expect(
        get_placement.sync_detailed(first.entity_id, client=system), 200, "system reads a placement"
    )
    check(placement.id == first.entity_id, "the placement read is the one the feed named")
    check(placement.child_id == first.child_id, "the feed names the placement's child")
    say(
        f"system read {len(backlog)} changes up to cursor {cursor}; "
        f"placement {placement.id} is {placement.status}"
    )

    # People do not follow the feed.
    anna = person("anna")
    expect_problem(list_changes.sync_detailed(client=anna), 403, "a social secretary lists changes")

    # --- A social secretary registers a girl -----------------------------------------------------
    me = expect(get_me.sync_detailed(client=anna), 200, "anna reads her account")
    check(me.unit_id is not None, "a social secretary belongs to a unit")
    family = f"Story{secrets.randbelow(10**6):06d}"
    registering = register_child.sync_detailed(
        client=anna,
        body=ChildInput(
            given_name="Noor",
            family_name=family,
            date_of_birth=today - dt.timedelta(days=16 * 365 + 40),
            sex=Sex.FEMALE,
            asylum_status=AsylumStatus.ASYLUM_SEEKER,
            responsible_unit_id=me.unit_id,
            country_of_origin="Afghanistan",
            languages=["dari"],
            interpreter_needed=True,
            dossier_number=f"{90_000_000 + secrets.randbelow(10_000_000)}",
            arrival_date=today - dt.timedelta(days=30),
            assigned_on=today - dt.timedelta(days=28),
            guardian=GuardianInput(
                name="Gunnel Gode",
                phone="070-123 45 67",
                appointed_on=today - dt.timedelta(days=20),
            ),
        ),
    )
    registered = expect(registering, 201, "anna registers a child")
    child = registered.child
    check(child.given_name == "Noor" and child.family_name == family, "the answer shows her name")
    check(
        registering.headers.get("location") == f"/api/v1/children/{child.id}",
        f"Location {registering.headers.get('location')}",
    )
    check(bool(registering.headers.get("etag")), "the new child has an ETag")
    say(f"anna registered Noor {family} ({child.id})")

    # --- ... and places her in an HVB home of her unit with a free place -------------------------
    homes = expect(
        list_facilities.sync_detailed(
            client=anna, unit_id=me.unit_id, kind=FacilityKind.HVB, limit=500
        ),
        200,
        "anna lists her unit's HVB homes",
    ).items
    check(len(homes) > 0, "her unit has HVB homes")
    start = today - dt.timedelta(days=7)
    placed = None
    full: list[str] = []
    # She tries her unit's HVB homes in turn (a first placement is in an HVB home).
    for home in (h for h in homes if h.active):
        attempt = place_child.sync_detailed(
            child.id,
            client=anna,
            body=PlacementInput(
                facility_id=home.id,
                start_date=start,
                legal_basis="SoL2025-insats",
                decision_reference=f"SN-{today.year}-{family}",
            ),
        )
        if attempt.status_code == 409:
            # A full home is the one refusal that sends her to the next; the code says which.
            problem = expect_problem(attempt, 409, f"anna places Noor at {home.name}")
            check(problem.type_ == f"{PROBLEM}facility-full", f"{home.name}: {problem.type_}")
            full.append(home.name)
            continue
        placed = expect(attempt, 201, f"anna places Noor at {home.name}")
        check(
            attempt.headers.get("location") == f"/api/v1/placements/{placed.id}",
            f"Location {attempt.headers.get('location')}",
        )
        break
    check(placed is not None, f"no HVB home of the unit had a free place: {full}")
    check(
        placed.child_id == child.id and placed.status == PlacementStatus.ACTIVE,
        f"placement {placed}",
    )
    check(placed.start_date == start, f"start {placed.start_date}")
    home = next(h for h in homes if h.id == placed.facility_id)
    say(
        f"anna placed Noor at {home.name} from {start}"
        + (f" (full: {', '.join(full)})" if full else "")
    )

    # --- ... logs a visit against her contact schedule -------------------------------------------
    schedules = expect(
        list_contact_schedules.sync_detailed(child.id, client=anna),
        200,
        "anna lists Noor's schedules",
    ).items
    mine = [s for s in schedules if str(s.kind) == "secretary_visit" and s.secretary_id == me.id]
    check(len(mine) == 1, f"the placement started one secretary's schedule for anna: {schedules}")
    schedule = mine[0]
    check(schedule.last_contact_on is None, "no contact yet")
    visited_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    visit = expect(
        record_visit.sync_detailed(
            child.id,
            client=anna,
            body=NewVisit(
                schedule_id=schedule.id,
                occurred_at=visited_at,
                mode=NewVisitMode.HOME_VISIT,
                at_placement=True,
                completed=True,
                spoke_alone=True,
                planned=True,
                interpreter_used=True,
                notes="First visit at the home; Noor settles in well.",
            ),
        ),
        201,
        "anna logs a visit",
    )
    check(
        visit.schedule_id == schedule.id and visit.completed and not visit.corrected,
        f"visit {visit}",
    )
    after_visit = expect(
        get_contact_schedule.sync_detailed(schedule.id, client=anna), 200, "anna reads the schedule"
    )
    visited_on = visited_at.astimezone(STOCKHOLM).date()
    check(
        after_visit.last_contact_on == visited_on,
        f"last contact {after_visit.last_contact_on}, not {visited_on}",
    )
    check(after_visit.next_ is not None, "the schedule has a next contact due")
    due = after_visit.next_.due_on
    check(due > today, f"the visit moved the next contact into the future: {due}")
    say(f"anna logged visit {visit.id}; next contact due {due} ({schedule.recurrence})")

    # --- ... and finds her in her worklist -------------------------------------------------------
    worklist = expect(
        get_worklist.sync_detailed(client=anna, until=due), 200, "anna reads her worklist"
    )
    rows = [i for i in worklist.items if i.child_id == child.id]
    check(
        any(r.schedule_id == schedule.id and r.due_on == due and not r.overdue for r in rows),
        f"Noor's next visit ({due}) is in the worklist until {due}: {rows}",
    )
    say(f"anna's worklist until {due} lists Noor's next visit ({len(worklist.items)} in all)")

    # --- The system sees the new child and placement in the feed ---------------------------------
    wanted = {("child", child.id, "create"), ("placement", placed.id, "create")}
    seen: list[Any] = []
    deadline = time.monotonic() + FEED_WAIT_SECONDS
    while True:
        page = feed_page(system, cursor)
        seen.extend(page.items)
        cursor = page.next_
        found = {(str(c.entity_type), c.entity_id, str(c.change)) for c in seen}
        if wanted <= found or time.monotonic() > deadline:
            break
        if not page.more:
            time.sleep(0.2)
    check(
        wanted <= found,
        f"the feed shows Noor's registration and placement: missing {wanted - found}",
    )
    ours = [c for c in seen if c.child_id == child.id]
    check(all(c.entity_id for c in ours), "every change names its record")
    order = [(str(c.entity_type), c.entity_id, str(c.change)) for c in seen]
    check(
        order.index(("child", child.id, "create"))
        < order.index(("placement", placed.id, "create")),
        "the registration comes before the placement",
    )
    say("system saw Noor's changes: " + ", ".join(f"{c.entity_type} {c.change}" for c in ours))

    # --- ... and reads them with the scopes it holds ---------------------------------------------
    reading = get_placement.sync_detailed(placed.id, client=system)
    seen_placement = expect(reading, 200, "system reads the new placement")
    check(seen_placement.child_id == child.id, "the placement is Noor's")
    check(seen_placement.facility_id == home.id, "the system sees the facility")
    check(seen_placement.status == PlacementStatus.ACTIVE, f"status {seen_placement.status}")
    check(bool(reading.headers.get("etag")), "a placement read carries its ETag")
    as_system = expect(
        get_child.sync_detailed(child.id, client=system), 200, "system reads the child"
    )
    check(as_system.id == child.id, "the child read is Noor")
    check(isinstance(as_system.given_name, Unset), "a system sees no names")
    say(f"system read placement {placed.id} at {home.name} and child {child.id}")
    say("the story ran to its end")


if __name__ == "__main__":
    main()
