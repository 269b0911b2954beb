"""The static website endpoint (s3_web): buckets served by Host header to
anonymous clients (curl), configured with awscli `s3api put-bucket-website`
and s3cmd `ws-create`: index documents, the error document with 404,
redirects, Range, If-None-Match, CORS preflights."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

import harness

WEB_PORT = harness.free_port()
ROOT = ".web.garage.localhost"
NODE_CONFIG = {"s3_web": {"bind_addr": f"127.0.0.1:{WEB_PORT}", "root_domain": ROOT}}


def tool(name: str, preferred=()) -> str:
    p = harness.find_tool(name, preferred)
    if p is None:
        pytest.skip(f"{name} is not installed (hack/deps.sh installs it)")
    return p


def curl(host: str, path: str, *args: str, method: str | None = None):
    """(status, headers with lower-case names, body) of one curl request."""
    with tempfile.TemporaryDirectory() as d:
        hdr, body = Path(d) / "h", Path(d) / "b"
        cmd = [tool("curl", ["/usr/bin/curl"]), "-s", "-D", str(hdr), "-o", str(body),
               "-w", "%{http_code}", "-H", f"Host: {host}", *args]
        if method:
            cmd += ["-X", method] if method != "HEAD" else ["-I"]
        cmd.append(f"http://127.0.0.1:{WEB_PORT}{path}")
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stderr
        headers = {}
        for line in hdr.read_text(errors="replace").splitlines()[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        data = body.read_bytes() if body.exists() else b""
        return int(p.stdout), headers, data


def aws(cred, *args):
    env = cred.aws_env({"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                        "HOME": tempfile.mkdtemp()})
    return harness.run([tool("aws", ["/usr/bin/aws"]), *cred.aws_args(), *args], env=env,
                       timeout=120)


@pytest.fixture
def site(node, cred, s3, bucket):
    """A bucket with pages, configured as a website through awscli."""
    put = lambda k, body, ct="text/html": s3.put_object(Bucket=bucket, Key=k, Body=body,
                                                        ContentType=ct)
    put("index.html", b"<h1>home</h1>")
    put("about/index.html", b"<h1>about</h1>")
    put("error.html", b"<h1>custom not found</h1>")
    put("style.css", b"body { color: red; } /* 0123456789 */", "text/css")
    conf = {
        "IndexDocument": {"Suffix": "index.html"},
        "ErrorDocument": {"Key": "error.html"},
        "RoutingRules": [{"Condition": {"KeyPrefixEquals": "old/"},
                          "Redirect": {"ReplaceKeyPrefixWith": "about/",
                                       "HttpRedirectCode": "301"}}],
    }
    aws(cred, "s3api", "put-bucket-website", "--bucket", bucket,
        "--website-configuration", json.dumps(conf))
    return bucket


def test_index_documents_and_error_document(site):
    host = site + ROOT
    status, h, body = curl(host, "/")
    assert status == 200 and body == b"<h1>home</h1>"
    assert h["content-type"] == "text/html"
    status, _, body = curl(host, "/about/")
    assert status == 200 and body == b"<h1>about</h1>"
    # A directory without its slash is redirected to it.
    status, h, _ = curl(host, "/about")
    assert status == 302 and h["location"] == "/about/"
    status, h, body = curl(host, "/no/such/page.html")
    assert status == 404 and body == b"<h1>custom not found</h1>"
    # HEAD: the same status and headers, no body.
    status, h, _ = curl(host, "/style.css", method="HEAD")  # (curl -I: no body read)
    assert status == 200 and h["content-type"] == "text/css"
    assert h["content-length"] == "37"
    # Host with a port, and anything but GET/HEAD/OPTIONS.
    assert curl(host + f":{WEB_PORT}", "/")[0] == 200
    assert curl(host, "/", method="PUT")[0] == 405


def test_routing_rule_redirect_and_redirect_all(node, cred, s3, site):
    status, h, _ = curl(site + ROOT, "/old/page.html")
    assert status == 301 and h["location"].endswith("/about/page.html"), h
    # A second bucket that redirects every request elsewhere (s3cmd ws-create
    # makes the website, awscli switches it to RedirectAllRequestsTo).
    other = f"redir-{uuid.uuid4().hex[:8]}"
    node.allow(node.create_bucket(other), cred)
    with tempfile.TemporaryDirectory() as d:
        cfg = cred.s3cmd_config(Path(d) / "s3cfg")
        harness.run([tool("s3cmd", ["/usr/bin/s3cmd"]), "-c", str(cfg), "ws-create",
                     "--ws-index=index.html", "--ws-error=error.html", f"s3://{other}"],
                    timeout=60)
    s3.put_object(Bucket=other, Key="index.html", Body=b"s3cmd site")
    assert curl(other + ROOT, "/")[2] == b"s3cmd site"
    aws(cred, "s3api", "put-bucket-website", "--bucket", other, "--website-configuration",
        json.dumps({"RedirectAllRequestsTo": {"HostName": "example.org", "Protocol": "https"}}))
    status, h, _ = curl(other + ROOT, "/a/b.html")
    assert status == 301 and h["location"] == "https://example.org/a/b.html"


def test_range_and_conditional_get(site):
    host = site + ROOT
    status, h, body = curl(host, "/style.css", "-H", "Range: bytes=0-3")
    assert status == 206 and body == b"body"
    assert h["content-range"].startswith("bytes 0-3/")
    status, h, _ = curl(host, "/style.css", "-H", "Range: bytes=9999-")
    assert status == 416
    status, h, _ = curl(host, "/style.css")
    etag = h["etag"]
    status, h2, body = curl(host, "/style.css", "-H", f"If-None-Match: {etag}")
    assert status == 304 and body == b""
    assert curl(host, "/style.css", "-H", 'If-None-Match: "other"')[0] == 200


def test_cors_on_the_web_endpoint(s3, site):
    s3.put_bucket_cors(Bucket=site, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET"],
        "AllowedHeaders": ["x-custom"], "MaxAgeSeconds": 600}]})
    host = site + ROOT
    status, h, _ = curl(host, "/index.html", "-H", "Origin: https://app.example.com",
                        "-H", "Access-Control-Request-Method: GET",
                        "-H", "Access-Control-Request-Headers: X-Custom", method="OPTIONS")
    assert status == 200
    assert h["access-control-allow-origin"] == "https://app.example.com"
    assert "GET" in h["access-control-allow-methods"]
    status, _, _ = curl(host, "/index.html", "-H", "Origin: https://evil.example.com",
                        "-H", "Access-Control-Request-Method: GET", method="OPTIONS")
    assert status == 403
    status, h, _ = curl(host, "/", "-H", "Origin: https://app.example.com")
    assert status == 200 and h["access-control-allow-origin"] == "https://app.example.com"
    status, h, _ = curl(host, "/", "-H", "Origin: https://evil.example.com")
    assert status == 200 and "access-control-allow-origin" not in h


def test_buckets_without_website_and_global_alias_hosts(node, cred, s3, site):
    # A bucket without a website configuration is not served.
    plain = f"plain-{uuid.uuid4().hex[:8]}"
    node.allow(node.create_bucket(plain), cred)
    s3.put_object(Bucket=plain, Key="index.html", Body=b"not a site")
    status, _, body = curl(plain + ROOT, "/")
    assert status == 404 and b"NoSuchWebsiteConfiguration" in body
    status, _, body = curl("no-such-bucket" + ROOT, "/")
    assert status == 404 and b"NoSuchBucket" in body
    # A global alias equal to the whole Host serves the bucket.
    bid = node.bucket_info(site)["id"]
    domain = f"www{uuid.uuid4().hex[:6]}.example.com"
    node.admin("POST", "/v2/AddBucketAlias", json={"bucketId": bid, "globalAlias": domain})
    status, _, body = curl(domain, "/")
    assert status == 200 and body == b"<h1>home</h1>"
    # Removing the website configuration stops serving.
    s3.delete_bucket_website(Bucket=site)
    assert curl(site + ROOT, "/")[0] == 404
