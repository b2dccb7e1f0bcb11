"""The form pieces every page shares (templates/macros/forms.html)."""

from __future__ import annotations

from flask import render_template_string

from tests.conftest import csrf_token, login

MACROS = '{% from "macros/forms.html" import csrf_field, field, labelled, post_button, stacked_table %}'


def render(app, body: str, **context) -> str:
    with app.test_request_context("/"):
        return render_template_string(MACROS + body, **context)


def test_a_field_labels_its_input_passes_attributes_and_lists_its_errors(app):
    html = render(
        app,
        '{{ field("Points", "points", 7, {"points": ["Too many <points>"]}, type="number", required=true, step=1, '
        'aria_label="Points for Alice", placeholder=none, disabled=false) }}',
    )
    assert html.startswith('<label>Points<input type="number" name="points" value="7"')
    assert " required" in html and 'step="1"' in html and 'aria-label="Points for Alice"' in html
    assert "placeholder" not in html and "disabled" not in html
    assert '<span class="field-error">Too many &lt;points&gt;</span></label>' in html


def test_labelled_wraps_any_control_and_its_errors(app):
    html = render(
        app,
        '{% call labelled("Team", "team_id", {"team_id": ["Choose a team."]}) %}<select name="team_id"></select>{% endcall %}',
    )
    assert html == '<label>Team<select name="team_id"></select><span class="field-error">Choose a team.</span></label>'


def test_a_post_button_carries_the_csrf_token_and_asks_first(app):
    html = render(
        app,
        '{% call post_button("/rewards/redemptions/3/cancel", "Cancel", confirm="Cancel it?", button_class="danger") %}'
        '<input type="hidden" name="active" value="0">{% endcall %}',
    )
    assert '<form method="post" action="/rewards/redemptions/3/cancel" data-confirm="Cancel it?">' in html
    assert 'name="csrf_token" value="' in html and '<input type="hidden" name="active" value="0">' in html
    assert html.rstrip().endswith('<button class="danger">Cancel</button>\n</form>')
    assert "data-confirm" not in render(app, '{{ post_button("/x", "Go") }}')


def test_a_stacked_table_has_one_header_per_column(app):
    html = render(
        app, '{% call stacked_table(["Name", "Points"]) %}<tr><td>Alice</td><td data-label="Points">5</td></tr>{% endcall %}'
    )
    assert '<table class="stack">' in html and "<th>Name</th><th>Points</th>" in html and "<td>Alice</td>" in html


def test_the_cancel_form_on_my_redemptions_posts_with_a_valid_token(org, client):
    from pointsapp.extensions import db
    from pointsapp.models import Reward
    from tests import factories

    reward = Reward(name="Remote day", kind="other", cost=100, description="")
    db.session.add(reward)
    db.session.commit()
    factories.give_points(org.alice, 300)
    login(client, org.alice)
    client.post(f"/rewards/{reward.id}/redeem", data={"csrf_token": csrf_token(client, "/rewards"), "quantity": "1"})
    html = client.get("/rewards/mine").get_data(as_text=True)
    assert 'data-confirm="Cancel this redemption? The points become available again."' in html
    token = html.split('name="csrf_token" value="')[1].split('"')[0]
    action = html.split('data-confirm="Cancel this redemption?')[0].rsplit('action="', 1)[1].split('"')[0]
    cancelled = client.post(action, data={"csrf_token": token})
    assert cancelled.status_code == 302
    assert "Cancelled" in client.get("/rewards/mine").get_data(as_text=True)
