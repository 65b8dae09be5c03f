"""The `highlight` template filter (reviewer.templatetags.screening): the review's terms
marked in a title or abstract, the text escaped, whole words, wildcards, overlaps."""

from __future__ import annotations

from types import SimpleNamespace

from django.template import Context, Template

from reviewer.templatetags.screening import highlight, highlight_terms


def review(include=(), exclude=()):
    return SimpleNamespace(highlight_include=list(include), highlight_exclude=list(exclude))


def test_html_in_the_text_is_escaped():
    marked = highlight("<script>alert('child')</script> & <b>child</b>", review(["child"]))

    assert "<script>" not in marked and "<b>" not in marked
    assert marked == (
        '&lt;script&gt;alert(&#x27;<mark class="hl-include">child</mark>&#x27;)&lt;/script&gt;'
        ' &amp; &lt;b&gt;<mark class="hl-include">child</mark>&lt;/b&gt;'
    )


def test_a_term_never_matches_inside_an_escaped_entity():
    marked = highlight_terms("a < b and lt", ["lt", "amp"], [])

    assert marked == 'a &lt; b and <mark class="hl-include">lt</mark>'


def test_terms_in_html_are_escaped_too():
    marked = highlight_terms("IMT <10 cm", ["<10 cm"], [])

    assert marked == 'IMT <mark class="hl-include">&lt;10 cm</mark>'


def test_matching_ignores_case():
    marked = highlight_terms("Children, CHILDREN and children", ["children"], [])

    assert marked.count('<mark class="hl-include">') == 3
    assert '<mark class="hl-include">CHILDREN</mark>' in marked


def test_whole_words_only():
    marked = highlight_terms("tumor tumors antitumor tumor-like", ["tumor"], [])

    assert marked == (
        '<mark class="hl-include">tumor</mark> tumors antitumor '
        '<mark class="hl-include">tumor</mark>-like'
    )


def test_a_star_is_a_wildcard_suffix():
    marked = highlight_terms("child, children, childhood; a schild", ["child*"], [])

    assert marked == (
        '<mark class="hl-include">child</mark>, <mark class="hl-include">children</mark>, '
        '<mark class="hl-include">childhood</mark>; a schild'
    )


def test_a_phrase_matches_across_a_line_break():
    marked = highlight_terms("a case\nreport of IMT", [], ["case report"])

    assert marked == 'a <mark class="hl-exclude">case\nreport</mark> of IMT'


def test_overlapping_terms_the_first_then_longest_match_wins():
    text = "Inflammatory myofibroblastic tumor in adults"

    marked = highlight_terms(
        text, ["inflammatory myofibroblastic"], ["myofibroblastic tumor", "adult*"]
    )

    assert marked == (
        '<mark class="hl-include">Inflammatory myofibroblastic</mark> tumor in '
        '<mark class="hl-exclude">adults</mark>'
    )


def test_a_longer_term_wins_over_one_inside_it():
    marked = highlight_terms("pediatric case report", ["pediatric case report"], ["case report"])

    assert marked == '<mark class="hl-include">pediatric case report</mark>'


def test_the_same_term_in_both_lists_is_marked_once_as_exclusion():
    marked = highlight_terms("adult patients", ["adult"], ["adult"])

    assert marked == '<mark class="hl-exclude">adult</mark> patients'


def test_terms_that_would_mark_everything_are_ignored():
    assert highlight_terms("any words", ["*", "  ", "-"], []) == "any words"


def test_no_terms_and_no_text():
    assert highlight("A <i>title</i>", review()) == "A &lt;i&gt;title&lt;/i&gt;"
    assert highlight(None, review(["x"])) == ""


def test_in_a_template_the_output_is_not_escaped_twice():
    template = Template("{% load screening %}{{ text|highlight:review }}")

    html = template.render(Context({"text": "Kids & children", "review": review(["child*"])}))

    assert html == 'Kids &amp; <mark class="hl-include">children</mark>'
