"""Salesforce bodies -> deskwatch values (pure functions), with the recorded samples as they are."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime, timezone

import pytest

from deskwatch.core.connect.contract import BadResponse
from deskwatch.core.model import TicketUpdate
from deskwatch.core.model.settings import Section
from deskwatch.plugins.salesforce import mapping, writeback
from deskwatch.plugins.salesforce.settings import parse_settings

API = "https://na1.salesforce.com"


def load(api_samples, name):
    return json.loads((api_samples / "salesforce" / name).read_text())


@pytest.fixture
def settings(monkeypatch):
    monkeypatch.setenv("SF_TEST_SECRET", "consumer-secret")
    return parse_settings(
        Section(
            {
                "base_url": "https://acme.my.salesforce.com",
                "client_id": "3MVG9id",
                "client_secret": "${SF_TEST_SECRET}",
                "account_tier_field": "Tier__c",
                "account_renewal_field": "Renewal_Date__c",
                "account_health_field": "Health_Score__c",
                "tags_field": "Tags__c",
                "queues": {"Tier 2": "00G5e000001AbCdEAK"},
            },
            "sources.acme",
            "config.toml",
        )
    )


def case_record(**over):
    """A Case as the REST query returns it, with both child sub-queries."""
    rec = {
        "attributes": {"type": "Case", "url": "/services/data/v61.0/sobjects/Case/5005e00000AbCdEAAZ"},
        "Id": "5005e00000AbCdEAAZ",
        "CaseNumber": "00001026",
        "Subject": "Cannot export invoices since the upgrade",
        "Description": "Since this morning the export button returns an error. Our month-end close is blocked.",
        "Priority": "High",
        "Status": "Working",
        "Origin": "Email",
        "IsEscalated": False,
        "IsClosed": False,
        "IsDeleted": False,
        "OwnerId": "0055e000003XyZaAAK",
        "Owner": {"attributes": {"type": "Name"}, "Name": "Dana Agent"},
        "AccountId": "0015e00000QwErTAAU",
        "Account": {
            "attributes": {"type": "Account"},
            "Name": "Globex Corporation",
            "AnnualRevenue": 1250000.0,
            "Tier__c": "Enterprise",
            "Renewal_Date__c": "2027-01-31",
            "Health_Score__c": 42,
        },
        "ContactId": "0035e00000ZxCvBAAV",
        "Contact": {"attributes": {"type": "Contact"}, "Name": "Hank Scorpio", "Email": "Hank@Globex.example"},
        "SuppliedEmail": None,
        "SuppliedName": None,
        "CreatedDate": "2026-11-23T08:00:00.000+0000",
        "LastModifiedDate": "2026-11-23T09:10:00.000+0000",
        "SystemModstamp": "2026-11-23T09:10:05.000+0000",
        "Tags__c": "billing;export",
        "CaseComments": {
            "totalSize": 2,
            "done": True,
            "records": [
                {
                    "attributes": {"type": "CaseComment"},
                    "Id": "00a5e000001",
                    "CommentBody": "Looking into it; can you send the exact error?",
                    "IsPublished": True,
                    "CreatedDate": "2026-11-23T08:30:00.000+0000",
                    "CreatedById": "0055e000003XyZaAAK",
                    "CreatedBy": {"attributes": {"type": "User"}, "UserType": "Standard"},
                },
                {
                    "attributes": {"type": "CaseComment"},
                    "Id": "00a5e000002",
                    "CommentBody": "Customer is on the enterprise plan, escalate if not fixed today.",
                    "IsPublished": False,
                    "CreatedDate": "2026-11-23T08:31:00.000+0000",
                    "CreatedById": "0055e000003XyZaAAK",
                    "CreatedBy": {"attributes": {"type": "User"}, "UserType": "Standard"},
                },
            ],
        },
        "EmailMessages": {
            "totalSize": 2,
            "done": True,
            "records": [
                {
                    "attributes": {"type": "EmailMessage"},
                    "Id": "02s5e000001",
                    "Incoming": True,
                    "FromAddress": "hank@globex.example",
                    "FromName": "Hank Scorpio",
                    "TextBody": None,
                    "HtmlBody": "<p>The error says <b>EXPORT_FAILED</b>.</p><p>This is urgent &amp; costly.</p>",
                    "MessageDate": "2026-11-23T09:05:00.000+0000",
                    "Status": "0",
                    "CreatedDate": "2026-11-23T09:05:01.000+0000",
                },
                {
                    "attributes": {"type": "EmailMessage"},
                    "Id": "02s5e000002",
                    "Incoming": False,
                    "FromAddress": "support@acme.example",
                    "TextBody": "draft reply",
                    "MessageDate": None,
                    "Status": "5",
                    "CreatedDate": "2026-11-23T09:09:00.000+0000",
                },
            ],
        },
    }
    rec.update(over)
    return rec


def test_case_maps_to_the_normalized_ticket(settings):
    t = mapping.case_to_ticket(case_record(), settings, API)
    assert t.id == "acme:5005e00000AbCdEAAZ" and t.source == "acme" and t.native_id == "5005e00000AbCdEAAZ"
    assert (t.channel, t.status, t.priority) == ("email", "open", "high")
    assert t.subject == "Cannot export invoices since the upgrade"
    assert t.created_at == datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
    assert t.updated_at == datetime(2026, 11, 23, 9, 10, 5, tzinfo=timezone.utc)  # SystemModstamp
    assert t.requester.email == "hank@globex.example" and t.requester.id == "0035e00000ZxCvBAAV"
    org = t.organization
    assert (org.id, org.name, org.annual_value, org.tier) == ("0015e00000QwErTAAU", "Globex Corporation", 1250000.0, "Enterprise")
    assert org.renewal_date == date(2027, 1, 31) and org.health == pytest.approx(0.42)
    assert t.assignee == "Dana Agent" and t.group is None  # agents are known by name, as routing names them
    assert t.tags == ("billing", "export")
    assert t.url == "https://na1.salesforce.com/lightning/r/Case/5005e00000AbCdEAAZ/view"
    # description, two comments, one received e-mail; the draft is left out
    assert [(m.author, m.public) for m in t.messages] == [("customer", True), ("agent", True), ("agent", False), ("customer", True)]
    assert t.messages[-1].body == "The error says EXPORT_FAILED.\nThis is urgent & costly."
    assert t.messages[-1].author_id == "hank@globex.example"


def test_queue_owner_becomes_the_group_and_unknown_picklists_fall_back(settings):
    rec = case_record(
        OwnerId="00G5e000001AbCdEAK",
        Owner={"attributes": {"type": "Name"}, "Name": "Tier 2"},
        Origin="Carrier Pigeon",
        Status="Triage (custom)",
        IsClosed=True,
        Priority=None,
        Contact=None,
        ContactId=None,
        SuppliedEmail="visitor@example.org",
        SuppliedName="Web Visitor",
        Account=None,
        AccountId=None,
        CaseComments=None,
        EmailMessages=None,
        Description="",
    )
    t = mapping.case_to_ticket(rec, settings, API)
    assert t.group == "Tier 2" and t.assignee is None
    assert t.channel == "other" and t.status == "closed" and t.priority is None
    assert t.requester.email == "visitor@example.org" and t.requester.id is None
    assert t.organization is None and t.messages == ()


def test_portal_and_automated_comments_and_deskwatch_notes_get_their_author(settings):
    comments = [
        {"CommentBody": "Any update?", "IsPublished": True, "CreatedDate": "2026-11-23T09:00:00.000+0000", "CreatedBy": {"UserType": "PowerCustomerSuccess"}},
        {"CommentBody": "Auto-ack", "IsPublished": True, "CreatedDate": "2026-11-23T09:00:01.000+0000", "CreatedBy": {"UserType": "AutomatedProcess"}},
        {"CommentBody": writeback.marker("abc123def456zzz") + "\nescalated", "IsPublished": False, "CreatedDate": "2026-11-23T09:00:02.000+0000"},
    ]
    t = mapping.case_to_ticket(case_record(Description=None, EmailMessages=None), settings, API, comments=comments)
    assert [m.author for m in t.messages] == ["customer", "system", "system"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"Id": None}, r"Case: Id: missing|Case\.Id: missing"),
        ({"SystemModstamp": "yesterday"}, r"Case 5005e00000AbCdEAAZ\.SystemModstamp: expected a datetime"),
        ({"CreatedDate": None}, r"\.CreatedDate: missing"),
        ({"Account": "Globex"}, r"\.Account: expected a JSON object"),
        ({"IsClosed": "false"}, r"\.IsClosed: expected true or false"),
        ({"CaseComments": {"records": "none"}}, r"\.CaseComments\.records: expected a list"),
        ({"CaseComments": {"done": True, "records": [{"CommentBody": 7, "CreatedDate": "2026-11-23T09:00:00Z"}]}}, r"CaseComments\[0\]\.CommentBody: expected a string"),
        ({"Subject": ["a"]}, r"\.Subject: expected a string, got a list"),
    ],
)
def test_unexpected_case_bodies_raise_bad_response_naming_the_field(settings, change, message):
    rec = case_record()
    rec.update(change)
    with pytest.raises(BadResponse, match=message):
        mapping.case_to_ticket(rec, settings, API)


@pytest.mark.parametrize(
    ("account", "field", "kept"),
    [
        ({"AnnualRevenue": "n/a"}, "AnnualRevenue", {"health": 0.42, "renewal_date": date(2027, 1, 31)}),
        ({"Health_Score__c": 150}, "Health_Score__c", {"annual_value": 1250000.0, "renewal_date": date(2027, 1, 31)}),
        ({"Health_Score__c": -3}, "Health_Score__c", {"annual_value": 1250000.0}),
        ({"Renewal_Date__c": "next spring"}, "Renewal_Date__c", {"annual_value": 1250000.0, "health": 0.42}),
    ],
)
def test_unreadable_account_fields_are_dropped_with_a_warning_and_the_case_still_maps(settings, caplog, account, field, kept):
    rec = case_record()
    rec["Account"] = {**rec["Account"], **account}
    with caplog.at_level("WARNING", logger="deskwatch.plugins.salesforce"):
        t = mapping.case_to_ticket(rec, settings, API)
    org = t.organization
    dropped = {"AnnualRevenue": "annual_value", "Health_Score__c": "health", "Renewal_Date__c": "renewal_date"}[field]
    assert getattr(org, dropped) is None
    assert all(getattr(org, k) == pytest.approx(v) for k, v in kept.items())
    assert (org.name, org.tier) == ("Globex Corporation", "Enterprise")
    warning = [r.getMessage() for r in caplog.records]
    assert len(warning) == 1 and "Account 0015e00000QwErTAAU" in warning[0] and field in warning[0]
    assert "Case 5005e00000AbCdEAAZ" in warning[0]


def test_readable_text_amounts_and_percent_health_still_read(settings, caplog):
    rec = case_record()
    rec["Account"] = {**rec["Account"], "AnnualRevenue": "1,200,000", "Health_Score__c": "0.7"}
    org = mapping.case_to_ticket(rec, settings, API).organization
    assert (org.annual_value, org.health) == (1200000.0, pytest.approx(0.7))
    assert not caplog.records


def test_non_object_case_is_bad_response(settings):
    with pytest.raises(BadResponse, match="Case: expected a JSON object, got a list"):
        mapping.case_to_ticket([], settings, API)


def test_query_pages_from_the_recorded_samples(api_samples):
    first = mapping.parse_query_page(load(api_samples, "query_first_page_with_nextRecordsUrl.json"))
    assert (first.done, first.next_url, first.total_size, len(first.records)) == (False, "/services/data/v26.0/query/01gD", 2, 1)
    last = mapping.parse_query_page(load(api_samples, "query_last_page_done_true.json"))
    assert (last.done, last.next_url, last.records[0]["Text_Label"]) == (True, None, "Last Page")
    empty = mapping.parse_query_page(load(api_samples, "query_empty_response.json"))
    assert (empty.done, empty.records, empty.total_size) == (True, (), 0)


def test_a_recorded_record_that_is_not_a_case_is_bad_response(api_samples, settings):
    page = mapping.parse_query_page(load(api_samples, "query_first_page_with_nextRecordsUrl.json"))
    with pytest.raises(BadResponse, match=r"Case\[0\]\.Id: missing"):
        mapping.case_to_ticket(page.records[0], settings, API, where="Case[0]")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"done": True}, r"query\.records: expected a list, got null"),
        ({"done": False, "records": []}, r"query\.nextRecordsUrl: missing although done is false"),
        ({"done": "yes", "records": []}, r"query\.done: expected true or false"),
        ("<html>maintenance</html>", r"query: expected a JSON object"),
    ],
)
def test_malformed_query_envelopes(body, message):
    with pytest.raises(BadResponse, match=message):
        mapping.parse_query_page(body)


def test_get_deleted_and_get_updated_samples(api_samples):
    d = mapping.parse_deleted(load(api_samples, "get_deleted_response.json"))
    assert d.records == (("a00D0000008pQRAIA2", datetime(2013, 5, 7, 22, 7, 19, tzinfo=timezone.utc)),)
    assert d.earliest_available == datetime(2013, 5, 3, 15, 57, tzinfo=timezone.utc)
    assert d.latest_covered == datetime(2013, 5, 8, 21, 20, tzinfo=timezone.utc)
    ids, latest = mapping.parse_updated(load(api_samples, "get_updated_response.json"))
    assert len(ids) == 7 and ids[0] == "003q000000KvQ1tAAF"
    assert latest == datetime(2015, 8, 19, 8, 17, tzinfo=timezone.utc)  # minute resolution
    with pytest.raises(BadResponse, match=r"getDeleted\.deletedRecords\[0\]\.deletedDate: missing"):
        mapping.parse_deleted({"deletedRecords": [{"id": "500x"}]})


def test_error_bodies_from_the_samples(api_samples):
    (e,) = mapping.parse_errors(load(api_samples, "error_400_write_invalid_field.json"))
    assert (e.code, e.message) == ("INVALID_FIELD", "No such column 'foo' on sobject of type Bar")
    assert mapping.describe_errors(load(api_samples, "error_400_query_invalid_field.json")) == "INVALID_FIELD: error_message"
    assert mapping.parse_errors(load(api_samples, "error_401_invalid_session_id.json"))[0].code == "INVALID_SESSION_ID"
    assert mapping.parse_errors(load(api_samples, "error_404_not_found.json"))[0].code == "NOT_FOUND"
    assert mapping.parse_errors("plain text") == ()


def test_collections_partial_failure_reads_statusCode(api_samples):
    ok, bad = mapping.parse_collection_results(load(api_samples, "docs_example_sobject_collections_update_partial_failure.json"))
    assert ok.success and ok.id == "001RM000003oCprYAE"
    assert not bad.success and bad.id is None
    assert str(bad.errors[0]) == "MALFORMED_ID: Contact ID: id value of incorrect type: 001xx000003DGb2999 (fields: Id)"


def test_create_response_sample(api_samples):
    r = mapping.parse_record_result(load(api_samples, "create_success_response.json"))
    assert (r.id, r.success, r.errors) == ("some_id", True, ())


def test_limit_info_header_examples(api_samples):
    examples = load(api_samples, "docs_example_sforce_limit_info_header.json")["examples"]
    usages = [mapping.parse_limit_info(h) for h in examples]
    assert [(u.used, u.limit) for u in usages] == [(18, 5000), (25, 5000), (10018, 100000)]
    assert usages[0].share == pytest.approx(18 / 5000)
    assert mapping.parse_limit_info(None) is None and mapping.parse_limit_info("api-bursts=1/750") is None


def test_token_samples_and_the_token_never_prints(api_samples):
    tok = mapping.parse_token(load(api_samples, "oauth_token_success_response.json"))
    assert tok.instance_url == "https://na1.salesforce.com"
    assert tok.access_token.reveal().startswith("00Dx0000000BV7z!")
    assert "00Dx" not in repr(tok) and "00Dx" not in repr(tok.access_token)
    assert mapping.token_error(load(api_samples, "oauth_token_error_invalid_grant.json")) == "invalid_grant: authentication failure - Invalid Password"
    assert mapping.token_error(load(api_samples, "oauth_refresh_error_expired_token.json")) == "invalid_grant: expired access/refresh token"
    with pytest.raises(BadResponse, match="access_token: missing"):
        mapping.parse_token({"instance_url": "https://x"})


def test_case_query_selects_configured_fields_and_bounds_the_window(settings):
    q = mapping.case_query(settings, datetime(2026, 11, 1, tzinfo=timezone.utc), datetime(2026, 11, 23, 10, tzinfo=timezone.utc))
    assert "Account.AnnualRevenue" in q and "Account.Tier__c" in q and "Tags__c" in q and "Origin" in q
    assert "FROM CaseComments" in q and "FROM EmailMessages" in q
    assert q.endswith("FROM Case WHERE SystemModstamp >= 2026-11-01T00:00:00Z AND SystemModstamp < 2026-11-23T10:00:00Z ORDER BY SystemModstamp ASC, Id ASC")


def update(**kw):
    return TicketUpdate(ticket_id="acme:5005e00000AbCdEAAZ", source="acme", idempotency_key="3f2a9c1e0b7d44aa", **kw)


def test_build_patch_maps_every_field_and_keeps_other_tags(settings):
    body, lines = writeback.build_patch(
        update(priority="urgent", status="pending", escalated=True, group="Tier 2", tags_add=("vip", "billing"), tags_remove=("export",)),
        settings,
        current_tags=("billing", "export", "renewal"),
        queue_id="00G5e000001AbCdEAK",
    )
    assert body == {"Priority": "Critical", "Status": "Waiting on Customer", "IsEscalated": True, "OwnerId": "00G5e000001AbCdEAK", "Tags__c": "billing;renewal;vip"}
    assert "owner -> queue Tier 2" in lines


def test_build_patch_respects_the_orgs_picklist_and_explains_what_is_missing(settings):
    body, _ = writeback.build_patch(update(priority="urgent"), settings, picklists={"Priority": ["High", "Medium", "Low", "Urgent"]})
    assert body == {"Priority": "Urgent"}
    # A standard org stops at High: urgent work gets the highest value there is.
    body, _ = writeback.build_patch(update(priority="urgent"), settings, picklists={"Priority": ["High", "Medium", "Low"]})
    assert body == {"Priority": "High"}
    with pytest.raises(writeback.UpdateNotPossible, match=r"priority 'high'.*the org accepts Low, Medium.*priority_map"):
        writeback.build_patch(update(priority="high"), settings, picklists={"Priority": ["Medium", "Low"]})
    with pytest.raises(writeback.UpdateNotPossible, match="group 'Nope'.*queues"):
        writeback.build_patch(update(group="Nope"), settings)
    with pytest.raises(writeback.UpdateNotPossible, match="assignee 'dana'"):
        writeback.build_patch(update(assignee="dana"), settings)


def test_tags_without_a_tags_field_are_skipped_and_said_so(settings):
    from dataclasses import replace

    body, lines = writeback.build_patch(update(tags_add=("vip",), escalated=True), replace(settings, tags_field=None))
    assert body == {"IsEscalated": True}  # the escalation still goes through
    assert any("tags not written (+vip" in line and "tags_field" in line for line in lines)


def test_note_body_starts_with_the_marker_and_fits_4000_bytes():
    u = update(private_note="é" * 5000)
    body = writeback.note_body(u, ["priority -> High"])
    assert body.startswith("[deskwatch dw-3f2a9c1e0b7d]\n")
    assert len(body.encode("utf-8")) <= 4000 and body.endswith("- priority -> High")
    assert writeback.has_marker(["x", body], u.idempotency_key)
    assert not writeback.has_marker(["x"], u.idempotency_key)


def test_mapping_does_not_mutate_the_record(settings):
    rec = case_record()
    before = copy.deepcopy(rec)
    mapping.case_to_ticket(rec, settings, API)
    assert rec == before
