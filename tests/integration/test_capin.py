"""CAP 1.2 in, on the real broker: an alert from another system becomes situations, a
place the city does not know waits in triage until a coordinator places it, a Cancel
closes what its alert opened, and the situation goes back out as CAP, valid against the
OASIS schema. An alert with an external entity is refused, and so is one the schema
refuses, by XPath."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import xmlschema

from concord.core import cap
from concord.core.capin import signal_id
from concord.embedded.outbox import Outbox
from tests.conftest import Worker, unique_time, wait_until
from tests.integration.helpers import WebClient, audit_entries
from tests.integration.test_hardening import situation_of

pytestmark = pytest.mark.integration

XSD = xmlschema.XMLSchema(Path(cap.__file__).parent / "schemas" / "CAP-v1.2.xsd")


def alert(ident: str, *areas: str, kind: str = "Alert", refs: str = "") -> bytes:
    """A regional police alert about a brawl with racist insults, on `onset`."""
    sent = datetime.now(UTC).replace(microsecond=0).isoformat()
    references = f"<references>{refs}</references>" if refs else ""
    places = "".join(f"<area><areaDesc>{a}</areaDesc></area>" for a in areas)
    infos = (
        ""
        if kind == "Cancel"
        else f"""<info><language>fr-BE</language><category>Security</category><event>Rixe</event>
  <urgency>Immediate</urgency><severity>Severe</severity><certainty>Observed</certainty>
  <eventCode><valueName>concord-category</valueName><value>intergroup_conflict</value></eventCode>
  <onset>{unique_time()}</onset><headline>Rixe</headline>
  <description>Insultes racistes entre deux groupes.</description>{places}</info>"""
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>{ident}</identifier>
  <sender>police@region.example</sender><sent>{sent}</sent><status>Actual</status>
  <msgType>{kind}</msgType><scope>Restricted</scope><restriction>agencies</restriction>
  {references}{infos}</alert>""".encode()


def post_cap(worker: Worker, token: str, raw: bytes) -> tuple[int, Any]:
    got = worker.request("POST", "/api/cap", token=token, raw=raw)
    return got.status, got.body


def test_a_cap_alert_round_trip_and_its_cancel(worker: Worker, tokens: dict[str, str]) -> None:
    ident = f"ps-{uuid.uuid4().hex[:8]}"
    status, body = post_cap(worker, tokens["producer"], alert(ident, "Quartier Nord"))
    assert status == 202, body
    first = signal_id(ident, 1, 1)
    assert body["signals"] == [first]
    coordinator = tokens["coordinator"]
    found = wait_until(lambda: situation_of(worker, coordinator, first))
    assert found["area"] == "north"
    assert found["categories"] == ["intergroup_conflict"]
    again = post_cap(worker, tokens["producer"], alert(ident, "Quartier Nord"))
    assert again[0] == 202  # the same alert twice: its signal is processed once
    out = worker.request("GET", f"/api/situations/{found['id']}/cap", token=coordinator)
    assert out.status == 200
    XSD.validate(out.body)  # back out as CAP 1.2, valid
    assert "<value>north</value>" in out.body
    refs = f"police@region.example,{ident},2026-12-06T10:00:00+01:00"
    cancel = alert(f"{ident}-c", kind="Cancel", refs=refs)
    status, body = post_cap(worker, tokens["producer"], cancel)
    assert (status, body["cancels"]) == (202, [ident])
    closed = wait_until(
        lambda: (s := situation_of(worker, coordinator, first)) and s["state"] == "closed" and s
    )
    assert len(closed["signals"]) == 1
    assert wait_until(lambda: audit_entries(worker, f"{ident}-c", "cap.received"))


def test_an_unknown_place_waits_in_triage_until_a_coordinator_places_it(
    worker: Worker, tokens: dict[str, str], outbox: Outbox
) -> None:
    ident = f"ps-{uuid.uuid4().hex[:8]}"
    status, body = post_cap(worker, tokens["producer"], alert(ident, "Rue de la Loi 16"))
    assert status == 202
    waiting = signal_id(ident, 1, 1)
    assert (body["signals"], body["triage"]) == ([], [waiting])
    web = WebClient(worker.base)
    web.sign_in(outbox, "coordination@concordia.example", "/triage")

    def listed() -> str | None:
        page = web.open("/triage")[2]
        return page if "Rue de la Loi 16" in page else None

    page = wait_until(listed)
    assert "Insultes racistes entre deux groupes." in page  # opened for the coordinator
    assert wait_until(lambda: audit_entries(worker, "triage", "triage.read"))
    action = f"/triage/{waiting.replace(':', '%3A')}"
    assert action in page
    status, landed, after = web.open(action, {"csrf": web.csrf(page), "area": "centre"})
    assert (status, landed) == (200, "/triage?placed=1"), after
    placed = wait_until(lambda: situation_of(worker, tokens["coordinator"], waiting))
    assert placed["area"] == "centre"
    wait_until(lambda: "Rue de la Loi 16" not in web.open("/triage")[2])
    assert audit_entries(worker, waiting, "triage.placed")[0].details["area"] == "centre"


# (the alert, the status, where the answer says it is wrong)
REFUSED = [
    (
        b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
        422,
        "(body)",
    ),
    (alert("x", "Centre-ville").replace(b"<status>Actual", b"<status>Rumour"), 422, "cap:status"),
    (b"not xml at all", 422, "(body)"),
]


@pytest.mark.parametrize(("raw", "status", "where"), REFUSED)
def test_an_unsafe_or_invalid_alert_is_refused_naming_where(
    worker: Worker, tokens: dict[str, str], raw: bytes, status: int, where: str
) -> None:
    got, body = post_cap(worker, tokens["producer"], raw)
    assert got == status, body
    assert any(where in str(e["loc"]) for e in body["errors"]), body


def test_only_a_producer_may_send_alerts(worker: Worker, tokens: dict[str, str]) -> None:
    assert post_cap(worker, "", alert("y", "Centre-ville"))[0] == 401
    assert post_cap(worker, tokens["panel"], alert("y", "Centre-ville"))[0] == 403


def test_the_cli_sends_an_alert_from_a_file(
    worker: Worker, tokens: dict[str, str], tmp_path: Path
) -> None:
    ident = f"cli-{uuid.uuid4().hex[:8]}"
    good = tmp_path / "alert.xml"
    good.write_bytes(alert(ident, "Zuidwijk"))
    sent = worker.cli("signal", "send", "--cap", str(good))
    assert sent.returncode == 0, sent.stderr
    assert re.search(rf"sent CAP alert {ident}: 1 signal\(s\), 0 to triage", sent.stdout.decode())
    wait_until(lambda: situation_of(worker, tokens["coordinator"], signal_id(ident, 1, 1)))
    bad = tmp_path / "bad.xml"
    bad.write_bytes(alert(ident, "Zuidwijk").replace(b"<severity>Severe", b"<severity>Huge"))
    refused = worker.cli("signal", "send", "--cap", str(bad))
    assert refused.returncode == 1
    out = refused.stdout.decode() + refused.stderr.decode()
    assert f"{bad}: /cap:alert/cap:info/cap:severity" in out
    assert "Traceback" not in out
