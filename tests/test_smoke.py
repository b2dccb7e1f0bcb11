def test_me_returns_the_caller(org, api_as):
    response = api_as(org.alice).get("/me")
    assert response.status_code == 200
    assert response.json == {
        "id": org.alice.id, "email": org.alice.email, "name": "Alice", "role": "employee",
        "team_id": org.wealth.id, "locale": None, "hired_on": None, "wecom_userid": None,
    }
