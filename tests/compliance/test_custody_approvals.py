"""Which approvals stood at the merge: dismissals before and after it, a reviewer who approved and
then asked for changes, an administrator merging past protection, and protection that changed
between the approval and the merge. Each world is built from ledger entries and projected."""

from __future__ import annotations

from datetime import timedelta

import pytest

from evidence.compliance.custody import build_custody
from tests.support.custody_story import APP, PROTECTED, T0, Story, deployment, prod_policy

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("projected")]


def judged(story: Story) -> tuple[list[str], list]:
    story.append()
    chain = build_custody(deployment())
    approvals = [link for link in chain.links if link.path == "image" and link.name == "approval"]
    return sorted({f.code for f in chain.findings}), approvals


def test_it_voids_an_approval_dismissed_before_the_merge():
    prod_policy()
    story = Story().clean(app_reviews=[])
    rid = story.review(APP, story.number, "bob", story.head, T0 - timedelta(hours=1))
    story.dismissal(APP, story.number, rid, T0 - timedelta(minutes=30))

    codes, approvals = judged(story)

    assert codes == ["insufficient_approvals", "protection_bypassed"]
    assert approvals[0].status == "violated"
    assert "before the merge, so it does not count" in approvals[0].explanation


def test_it_keeps_an_approval_dismissed_after_the_merge():
    prod_policy()
    story = Story().clean(app_reviews=[])
    rid = story.review(APP, story.number, "bob", story.head, T0 - timedelta(hours=1))
    story.dismissal(APP, story.number, rid, T0 + timedelta(minutes=30))

    codes, approvals = judged(story)

    assert codes == []
    assert approvals[0].status == "satisfied"
    assert "after the merge: it stood" in approvals[0].explanation


def test_it_does_not_count_a_reviewer_who_approved_then_requested_changes():
    prod_policy()
    story = Story().clean(app_reviews=[])
    story.review(APP, story.number, "bob", story.head, T0 - timedelta(hours=2), rid=11)
    story.review(APP, story.number, "bob", story.head, T0 - timedelta(hours=1), "CHANGES_REQUESTED", rid=12)

    codes, approvals = judged(story)

    assert codes == ["insufficient_approvals", "protection_bypassed"]
    assert [a.status for a in approvals] == ["violated"]
    assert "then requested changes" in approvals[0].explanation


def test_it_counts_an_approval_when_the_request_for_changes_came_after_the_merge():
    prod_policy()
    story = Story().clean(app_reviews=[])
    story.review(APP, story.number, "bob", story.head, T0 - timedelta(hours=2), rid=11)
    story.review(APP, story.number, "bob", story.head, T0 + timedelta(hours=1), "CHANGES_REQUESTED", rid=12)

    codes, approvals = judged(story)

    assert codes == []
    assert [a.status for a in approvals] == ["satisfied"]


def test_it_finds_an_administrator_merging_past_protection():
    prod_policy()  # the policy asks for one approval; protection asked for two
    story = Story().clean(app_settings={**PROTECTED, "required_approvals": 2})

    codes, _ = judged(story)

    assert codes == ["protection_bypassed"]
    bypass = next(link for link in build_custody(deployment()).links if link.name == "protection bypass")
    assert "while protection required 2" in bypass.explanation


def test_it_judges_the_protection_in_force_at_the_merge_not_at_the_approval():
    prod_policy()
    story = Story().clean()  # bob approved at T0-1h under protection on
    off = {**PROTECTED, "protected": False}
    content = story.protection(APP, off, T0 - timedelta(minutes=30))  # turned off before the merge at T0
    story.observe(APP, content, T0 + timedelta(hours=1))

    codes, _ = judged(story)

    assert codes == ["protection_off"]
    link = next(link for link in build_custody(deployment()).links if link.name == "protection")
    assert "was not protected when" in link.explanation
