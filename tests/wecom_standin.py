"""A WeCom (企业微信) stand-in on 127.0.0.1: ``cgi-bin/gettoken`` and ``cgi-bin/message/send`` as WeCom documents them.

gettoken answers ``{errcode, errmsg, access_token, expires_in}`` (40001 for a
wrong secret); message/send answers ``{errcode, errmsg, invaliduser, msgid}``
with 41001 (no token), 40014 (invalid token), 42001 (expired token), 81013
(no valid recipient), or an errcode a test queued (e.g. -1, system busy).
"""

from __future__ import annotations

import http.server
import json
import threading
from urllib.parse import parse_qs, urlsplit

ERRMSG = {
    0: "ok",
    -1: "system busy",
    40001: "invalid credential",
    40014: "invalid access_token",
    41001: "access_token missing",
    42001: "access_token expired",
    45009: "api freq out of limit",
    81013: "user & party & tag all invalid",
}


class WecomStandin:
    def __init__(self, corp_id: str = "ww-test-corp", secret: str = "test-app-secret", users=("chenjing",)):
        self.corp_id, self.secret, self.users = corp_id, secret, set(users)
        self.tokens: list[str] = []  # every token handed out, in order
        self.expired: set[str] = set()
        self.busy: list[int] = []  # errcodes to answer the next sends with
        self.sends: list[dict] = []  # every message/send request body, accepted or not
        self.delivered: list[dict] = []  # messages WeCom would show
        self.received = threading.Event()  # set when a send arrives
        self.hold: threading.Event | None = None  # when set by a test, sends wait for it before answering
        standin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self, body: dict) -> None:
                raw = json.dumps(body).encode()
                self.send_response(200)  # WeCom answers HTTP 200 and puts the outcome in errcode
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self):  # noqa: N802
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path != "/cgi-bin/gettoken":
                    return self._answer({"errcode": 404, "errmsg": "not found"})
                if query.get("corpid") != standin.corp_id or query.get("corpsecret") != standin.secret:
                    return self._answer({"errcode": 40001, "errmsg": ERRMSG[40001]})
                token = f"token-{len(standin.tokens) + 1}"
                standin.tokens.append(token)
                self._answer({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200})

            def do_POST(self):  # noqa: N802
                url = urlsplit(self.path)
                token = parse_qs(url.query).get("access_token", [None])[0]
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if url.path != "/cgi-bin/message/send":
                    return self._answer({"errcode": 404, "errmsg": "not found"})
                standin.sends.append(body)
                standin.received.set()
                if standin.hold is not None:
                    standin.hold.wait(30)
                code = self._code(token, body)
                answer = {"errcode": code, "errmsg": ERRMSG.get(code, "error")}
                if code == 0:
                    standin.delivered.append(body)
                    answer.update(invaliduser="", msgid=f"msg-{len(standin.delivered)}")
                elif code == 81013:
                    answer["invaliduser"] = body.get("touser", "")
                try:
                    self._answer(answer)
                except OSError:
                    pass  # the worker went away while we held the answer

            def _code(self, token, body) -> int:
                if not token:
                    return 41001
                if token in standin.expired:
                    return 42001
                if token not in standin.tokens:
                    return 40014
                if standin.busy:
                    return standin.busy.pop(0)
                return 0 if body.get("touser") in standin.users else 81013

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def settings(self) -> dict:
        """The app settings that point WeCom delivery at this stand-in."""
        return {
            "WECOM_CORP_ID": self.corp_id,
            "WECOM_AGENT_ID": "1000002",
            "WECOM_SECRET": self.secret,
            "WECOM_API_BASE": self.url,
        }

    def stop(self) -> None:
        if self.hold is not None:
            self.hold.set()
        self.server.shutdown()
        self.server.server_close()
