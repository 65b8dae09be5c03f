"""Analysis in a real browser: a reviewer asks for a cross-tabulation and sees its table,
its tests and the reported p-value appear."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from analysis.models import AnalysisRun, RunStatus
from tests.analysis.helpers_runs import imt_review
from tests.browser.test_import_flow import log_in
from tests.factories import add_member, make_review, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reviewer_cross_tabulates_site_by_management(browser_page: Page, live_server) -> None:
    page = browser_page
    review = make_review(owner=make_user("carol"), title="Pediatric IMT outcomes", slug="imt")
    add_member(review, make_user("dan"))
    imt_review(review, count=45)

    log_in(page, live_server.url, "dan")
    page.goto(f"{live_server.url}/reviews/imt/analysis/")
    expect(page.get_by_text("45 patients in 3 studies")).to_be_visible()
    form = page.locator("form", has=page.locator("input[name=kind][value=crosstab]"))
    form.get_by_label("Rows").select_option(label="Tumor site")
    form.get_by_label("Columns").select_option(label="Management")
    form.get_by_role("button", name="Cross-tabulate").click()

    expect(page.get_by_role("heading", name="Tumor site × Management")).to_be_visible()
    run = AnalysisRun.objects.get(review=review)
    assert run.status == RunStatus.SUCCEEDED
    table = run.result["tables"][0]
    expect(page.locator(".tests-table")).to_contain_text("Fisher's exact test")
    expect(page.locator(".reported")).to_contain_text(f"p = {table['reported_p_formatted']}")
    reported = page.locator(".reported .p-value")
    assert reported.get_attribute("title") == f"p = {table['reported_p']}"
    chart = page.locator(".crosstab-chart img")
    expect(chart).to_be_visible()
    chart.scroll_into_view_if_needed()  # the chart loads lazily
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=chart.element_handle()
    )


def test_reviewer_pools_the_recurrence_rate_and_sees_the_forest_plot(
    browser_page: Page, live_server
) -> None:
    page = browser_page
    page.set_viewport_size({"width": 1366, "height": 900})
    review = make_review(owner=make_user("carol"), title="Pediatric IMT outcomes", slug="imt")
    add_member(review, make_user("dan"))
    imt_review(review, count=45)

    log_in(page, live_server.url, "dan")
    page.goto(f"{live_server.url}/reviews/imt/analysis/")
    form = page.locator("form", has=page.locator("input[name=kind][value=pooled_proportion]"))
    form.get_by_label("Event (counted in the patient rows)").select_option(label="Recurrence: Yes")
    form.get_by_label("Method", exact=True).select_option(value="glmm")
    form.get_by_role("button", name="Pool the proportion").click()

    expect(page.get_by_role("heading", name="Recurrence: Yes", exact=True)).to_be_visible()
    run = AnalysisRun.objects.get(review=review)
    assert run.status == RunStatus.SUCCEEDED
    result = run.result["tables"][0]["result"]
    expect(page.locator(".pooled-summary")).to_contain_text(f"{100 * result['estimate']:.1f}%")
    expect(page.locator(".pooled-summary")).to_contain_text("95% prediction interval")
    plot = page.locator(".forest-plot img")
    plot.scroll_into_view_if_needed()  # the plot loads lazily
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=plot.element_handle())
    expect(plot).to_be_visible()
    assert "Forest plot: Recurrence: Yes, 3 studies" in (plot.get_attribute("alt") or "")
    page.screenshot(path="/tmp/pooled-proportion.png", full_page=True)


def test_the_request_forms_keep_their_spacing_and_each_box_beside_its_label(
    browser_page: Page, live_server
) -> None:
    # walk: at 1280x800 "Chemo/radiotherapy" went under its checkbox (the box alone on a
    # line), and "Reported test" sat flush under the Columns menu of the cross-tabulation
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 800})
    review = make_review(owner=make_user("carol"), title="Pediatric IMT outcomes", slug="imt")
    add_member(review, make_user("dan"))
    imt_review(review, count=45)

    log_in(page, live_server.url, "dan")
    page.goto(f"{live_server.url}/reviews/imt/analysis/")

    form = page.locator("form", has=page.locator("input[name=kind][value=crosstab]"))
    columns = form.get_by_label("Columns").bounding_box()
    reported = form.locator("label", has_text="Reported test").bounding_box()
    assert columns and reported
    assert reported["y"] - (columns["y"] + columns["height"]) >= 12
    outcomes = page.locator("fieldset.analysis-checks")
    labels = outcomes.locator("label")
    assert labels.count() > 10
    edge = outcomes.bounding_box()
    assert edge
    for i in range(labels.count()):
        label = labels.nth(i)
        box, text = label.locator("input").bounding_box(), label.bounding_box()
        assert box and text
        assert box["y"] - text["y"] < 8, f"{label.inner_text()!r}: its box is not on its first line"
        assert text["x"] + text["width"] <= edge["x"] + edge["width"], label.inner_text()
