"""The JSON API: `POST /api/signals`, `GET /api/situations[/{id}]`, `GET /api/tasks`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from faust.web import Request, Response, View
from faust.web.exceptions import NotAuthenticated, PermissionDenied
from pydantic import ValidationError

from concord.agents.intake import admit
from concord.core import intake
from concord.core.correlation import area_key
from concord.core.lifecycle import ALLOWED, IllegalTransition
from concord.streams.access import ApiToken
from concord.streams.reviews import ReviewRecord
from concord.streams.signals import SignalIn
from concord.streams.situations import Situation, SituationChangeIn, SituationCommand
from concord.streams.tasks import Task
from concord.types import utcnow
from concord.web import tasks, votes
from concord.web.auth import authenticate
from concord.web.body import read_json
from concord.web.readmodel import ReadModel

if TYPE_CHECKING:
    from concord.app import Concord

SIGNAL_ROLES = {"producer", "coordinator", "operator"}
BOARD_ROLES = {"coordinator", "operator", "panel"}
REVIEW_ROLES = {"coordinator", "panel"}
TASK_ROLES = {"coordinator", "operator", "liaison"}
#: Largest body of a vote or a situation change.
SMALL_BODY = 64_000


def task_json(task: Task, view: ReadModel | None = None) -> dict[str, Any]:
    """A task as the API shows it, with where the delivery to its assignee stands."""
    out = task.model_dump(mode="json")
    found = view.delivery_of(task) if view is not None else None
    if found is not None:
        out["delivery"] = {
            "state": found.state,
            "channel": found.via or found.current,
            "attempts": found.total_attempts,
            "next_at": found.next_at.isoformat() if found.next_at else None,
            "last_error": found.last_error,
            "delayed": found.delayed(utcnow()),
        }
    return out


def review_json(r: ReviewRecord) -> dict[str, Any]:
    """A review as the API shows it: versions, votes (with dissent) and where it stands."""
    out = r.model_dump(mode="json", exclude={"situation"})
    out.update(version=r.version, quorum=r.quorum)
    return out


def situation_json(s: Situation, view: ReadModel) -> dict[str, Any]:
    """A situation as the API shows it, with its tasks and its analysis' review."""
    out = s.model_dump(mode="json")
    out["tasks"] = [task_json(x, view) for x in view.tasks_of(s.id)]
    review = view.reviews.get(s.id)
    if review is not None:
        out["analysis"] = {
            "version": review.version,
            "outcome": review.outcome,
            "quorum": review.quorum,
            "approvals": review.approvals,
            "rejections": review.rejections,
            "conflicts": review.conflicts,
            "deadline": review.deadline.isoformat() if review.deadline else None,
        }
    return out


class _Base(View):
    concord: Concord
    view: ReadModel

    def _error(self, status: int, message: str, **extra: Any) -> Response:
        return self.json({"error": message, **extra}, status=status)

    def _auth(self, request: Request, roles: set[str]) -> ApiToken:
        """The caller's token; raises (401/403) otherwise, so no check can fall through."""
        token = authenticate(self.view, request.headers.get("Authorization"))
        if token is None:
            raise NotAuthenticated("a valid API token is required (Authorization: Bearer ...)")
        if token.role not in roles:
            raise PermissionDenied(f"role {token.role!r} may not do this")
        return token


def _validate_body(body: Any, c: Concord) -> tuple[list[SignalIn], list[dict[str, str]]]:
    items = body if isinstance(body, list) else [body]
    if isinstance(body, list) and not body:
        return [], [{"loc": "(body)", "msg": "empty array"}]
    signals: list[SignalIn] = []
    errors: list[dict[str, str]] = []
    for i, item in enumerate(items):
        result = intake.validate_signal(item, c.directory)
        if isinstance(result, intake.Refused):
            prefix = f"{i}." if isinstance(body, list) else ""
            errors.extend({"loc": prefix + e["loc"], "msg": e["msg"]} for e in result.errors)
        else:
            signals.append(result)
    return signals, errors


def register(c: Concord, view: ReadModel) -> None:
    limit = c.settings.max_body_bytes

    class Signals(_Base):
        async def post(self, request: Request) -> Response:
            self._auth(request, SIGNAL_ROLES)
            body = await read_json(request, limit)
            if isinstance(body, list) and len(body) > c.settings.max_batch:
                return self._error(413, f"more than {c.settings.max_batch} signals in one request")
            signals, errors = _validate_body(body, c)
            if errors:
                return self._error(422, "invalid signal", errors=errors)
            # Validated here: sealed and admitted straight to concord.signals.
            futures = [await admit(c, signal) for signal in signals]
            # Wait for the broker's ack: 202 means every signal is durably in Kafka.
            for fut in futures:
                await fut
            c.metrics.signals.labels("api").inc(len(signals))
            return self.json({"accepted": [s.id for s in signals]}, status=202)

    class Situations(_Base):
        async def get(self, request: Request) -> Response:
            self._auth(request, BOARD_ROLES)
            items = sorted(view.situations.values(), key=lambda s: s.updated_at, reverse=True)
            state = request.query.get("state")
            return self.json(
                [situation_json(s, view) for s in items if not state or s.state == state]
            )

    class OneSituation(_Base):
        async def get(self, request: Request, situation_id: str) -> Response:
            self._auth(request, BOARD_ROLES)
            s = view.situations.get(situation_id)
            if s is None:
                return self._error(404, "no such situation")
            return self.json(situation_json(s, view))

    class Tasks(_Base):
        async def get(self, request: Request) -> Response:
            auth = self._auth(request, TASK_ROLES)
            agency = request.query.get("agency")
            if auth.role == "liaison":
                if agency and agency != auth.agency:
                    return self._error(403, "a liaison sees only their agency's tasks")
                agency = auth.agency
            state = request.query.get("state")
            tasks = sorted(view.tasks.values(), key=lambda x: (x.created_at, x.id))
            return self.json(
                [
                    task_json(x, view)
                    for x in tasks
                    if (not agency or x.agency == agency) and (not state or x.state == state)
                ]
            )

    class Reviews(_Base):
        async def get(self, request: Request) -> Response:
            self._auth(request, REVIEW_ROLES)
            outcome = request.query.get("outcome")
            items = sorted(view.reviews.values(), key=lambda r: r.opened_at, reverse=True)
            return self.json([review_json(r) for r in items if not outcome or r.outcome == outcome])

    class OneReview(_Base):
        async def get(self, request: Request, situation_id: str) -> Response:
            self._auth(request, REVIEW_ROLES)
            r = view.reviews.get(situation_id)
            return self.json(review_json(r)) if r else self._error(404, "no such review")

    class Votes(_Base):
        async def post(self, request: Request, situation_id: str) -> Response:
            auth = self._auth(request, {"panel"})
            body = await read_json(request, SMALL_BODY)
            parsed = votes.parse_vote(body)
            if isinstance(parsed, votes.Answer):
                return self.json(parsed.body, status=parsed.status)
            # A panel token is named after the member it belongs to.
            result = await votes.submit(c, view, situation_id, auth.name, parsed, "api")
            return self.json(result.body, status=result.status)

    class ChangeSituation(_Base):
        async def post(self, request: Request, situation_id: str, action: str) -> Response:
            auth = self._auth(request, {"coordinator"})
            if action not in ("state", "split", "merge"):
                return self._error(404, "no such action: state, split or merge")
            body = await read_json(request, SMALL_BODY, empty={})
            try:
                change = SituationChangeIn.model_validate(body)
            except ValidationError as exc:
                return self._error(422, "invalid change", errors=votes.errors_of(exc))
            s = view.situations.get(situation_id)
            if s is None:
                return self._error(404, "no such situation")
            required = {"state": "to", "split": "signals", "merge": "other"}[action]
            if not getattr(change, required):
                return self._error(
                    422, "invalid change", errors=[{"loc": required, "msg": "Field required"}]
                )
            if action == "state" and change.to and change.to not in ALLOWED[s.state]:
                return self._error(409, str(IllegalTransition(s.id, s.state, change.to)))
            unknown = sorted(set(change.signals) - {r.id for r in s.signals})
            if action == "split" and unknown:
                return self._error(
                    422,
                    "invalid change",
                    errors=[{"loc": "signals", "msg": f"not in {s.id}: {unknown}"}],
                )
            if action == "merge":
                other = view.situations.get(change.other or "")
                if other is None:
                    return self._error(
                        422, "invalid change", errors=[{"loc": "other", "msg": "no such situation"}]
                    )
                if (other.area, other.exercise) != (s.area, s.exercise):
                    return self._error(
                        409,
                        "only situations of the same area (and both drills "
                        "or both real) can be merged",
                    )
            command = SituationCommand(
                situation_id=situation_id,
                key=area_key(s.area, s.exercise),
                action=action,  # checked above
                to=change.to,
                other=change.other,
                signals=change.signals,
                actor=auth.name,
                reason=change.reason,
            )
            zone = c.directory.zone(s.area)  # keyed like the signals
            fut = await c.topics.situation_commands.send(key=zone, value=command)
            await fut
            if action == "state" and change.to == "closed":
                await tasks.cancel_open_tasks(c, view, situation_id, auth.name)
            return self.json(
                {"accepted": True, "situation_id": situation_id, "action": action}, status=202
            )

    for path, cls in (
        ("/api/situations/{situation_id}/{action}", ChangeSituation),
        ("/api/reviews", Reviews),
        ("/api/reviews/{situation_id}", OneReview),
        ("/api/reviews/{situation_id}/votes", Votes),
        ("/api/signals", Signals),
        ("/api/situations", Situations),
        ("/api/situations/{situation_id}", OneSituation),
        ("/api/tasks", Tasks),
    ):
        cls.concord, cls.view = c, view
        c.app.page(path)(cls)
