"""A stand-in file service whose multipart parsing is a real library's.

Usage: parser_server.py PARSER PORT LOG. Serves 127.0.0.1:PORT; each POST's
multipart body is parsed with PARSER (werkzeug or python-multipart), one JSON
line {"parser", "filename", "size", "sha256"} is appended to LOG, and the
answer is the file service's success body naming the parsed file.
"""

import hashlib
import io
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PARSER, PORT, LOG = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def parse_werkzeug(headers, body):
    from werkzeug.wrappers import Request

    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": headers["Content-Type"],
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": str(PORT),
        "wsgi.url_scheme": "http",
    }
    upload = Request(environ).files["file"]
    return upload.filename, upload.read()


def parse_python_multipart(headers, body):
    import multipart

    found = {}

    def on_file(f):
        f.file_object.seek(0)
        found["name"] = f.file_name.decode("utf-8", "replace")
        found["data"] = f.file_object.read()

    multipart.parse_form(
        {"Content-Type": headers["Content-Type"], "Content-Length": str(len(body))},
        io.BytesIO(body),
        lambda field: None,
        on_file,
    )
    return found["name"], found["data"]


PARSERS = {"werkzeug": parse_werkzeug, "python-multipart": parse_python_multipart}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        name, data = PARSERS[PARSER](self.headers, body)
        record = {
            "parser": PARSER,
            "filename": name,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        with open(LOG, "a", encoding="utf-8") as log:
            log.write(json.dumps(record) + "\n")
        answer = json.dumps(
            {
                "code": 200,
                "status": "true",
                "message": "File uploaded successfully",
                "secureFilePath": "https://files.example/parsed/" + hashlib.sha256(name.encode()).hexdigest(),
                "file": {"name": name, "version": 1},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
