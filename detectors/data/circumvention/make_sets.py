# Run from the repository root: .venv/bin/python detectors/data/circumvention/make_sets.py
# One-off generator for the synthetic evaluation sets (written for Vigil; every name below is invented
# or a public service name; nothing copied from any list).
import json
from typing import Any

from detectors.unwrap import uv_encode

B: list[dict[str, Any]] = []


def e(label: str, **kw: Any) -> None:
    kw.setdefault("action", "allowed")
    kw.setdefault("method", "GET")
    kw["label"] = label
    B.append(kw)


def url(u: str, **kw: Any) -> None:
    from urllib.parse import urlsplit

    p = urlsplit(u)
    e(kw.pop("label"), url=u, host=p.hostname, path=p.path or "/", query=p.query or None, **kw)


# Ultraviolet / Scramjet / Rammerhead style unblockers on free hosting (invented host names)
for h in [
    "maths-homework-helper.vercel.app",
    "study-notes-9f2.pages.dev",
    "bio-revision.netlify.app",
    "quiet-river-41.onrender.com",
    "lunar-lab.github.io",
    "geo-quiz-hub.web.app",
    "sparkle-notes.glitch.me",
    "history-help-22.replit.app",
    "chem-cards.firebaseapp.com",
    "pixel-garden.workers.dev",
]:
    for inner in ["https://www.youtube.com/watch?v=abc", "https://discord.com/app", "https://www.tiktok.com/"]:
        url(f"https://{h}/service/{uv_encode(inner)}", label="uv_path")
    url(f"https://{h}/uv/uv.sw.js", label="uv_script")
    url(f"https://{h}/bare/v3/", label="bare")
    url(f"https://{h}/wisp/", label="wisp")
    url(f"https://{h}/scram/scramjet.all.js", label="scramjet")
    url(f"https://{h}/0123456789abcdef0123456789abcdef/https://www.roblox.com/", label="rammerhead")
# Classic CGI proxies and URL-parameter proxies
for h in ["freeschoolproxy.example", "unblock-now.example", "hidemyclass.example"]:
    url(f"http://{h}/browse.php?u=https%3A%2F%2Fwww.reddit.com%2F&b=4", label="glype")
    url(f"http://{h}/cgi-bin/nph-proxy.cgi/en/00/https/www.twitch.tv/", label="cgiproxy")
    url(f"https://{h}/proxy?url=https://www.instagram.com/", label="url_param")
    url(f"https://{h}/surf?u=aHR0cHM6Ly93d3cuc25hcGNoYXQuY29t", label="url_param_b64")
url("https://www.croxyproxy-example.example/?__cpo=aHR0cHM6Ly93d3cueW91dHViZS5jb20", label="croxy")
# Encrypted DNS
for h in [
    "dns.google",
    "cloudflare-dns.com",
    "mozilla.cloudflare-dns.com",
    "dns.quad9.net",
    "doh.opendns.com",
    "dns.nextdns.io",
    "dns.adguard-dns.com",
    "doh.mullvad.net",
]:
    url(f"https://{h}/dns-query?dns=AAABAAABAAAAAAAAA3d3dwdleGFtcGxlA2NvbQAAAQAB", label="doh_path")
    e("doh_connect", method="CONNECT", host=h, url=f"{h}:443", dst_port=443)
url("https://doh.example-private.net/dns-query", label="doh_path_unknown_host", content_type="application/dns-message")
url("https://dns.google/resolve?name=www.tiktok.com&type=A", label="doh_json")
for ip in ["1.1.1.1", "8.8.8.8", "9.9.9.9"]:
    e("doh_ip", method="CONNECT", host=ip, url=f"{ip}:443", dst_port=443)
    e("dot", method=None, host=None, dst_ip=ip, dst_port=853, source="pfsense")
e("relay", method="DNS", host="mask.icloud.com", source="dns")
e("relay", method="DNS", host="mask-h2.icloud.com", source="dns")
e("ech", method="CONNECT", host="cloudflare-ech.com", url="cloudflare-ech.com:443", dst_port=443)
# VPN apps and sites, Tor, remote control
for h in [
    "api.nordvpn.com",
    "api.protonvpn.ch",
    "api.surfshark.com",
    "api.windscribe.com",
    "engage.cloudflareclient.com",
    "api.tunnelbear.com",
    "psiphon3.com",
    "getlantern.org",
    "api.urban-vpn.com",
    "ultrasurf.us",
]:
    e("vpn_app", method="CONNECT", host=h, url=f"{h}:443", dst_port=443)
for h in ["nordvpn.com", "www.expressvpn.com", "protonvpn.com", "www.hotspotshield.com"]:
    url(f"https://{h}/download/", label="vpn_site")
url(
    "https://dist.torproject.org/torbrowser/14.0.1/tor-browser-windows-x86_64-portable-14.0.1.exe", label="tor_download"
)
url("https://www.torproject.org/download/", label="tor_site")
for port in (9001, 9030):
    e("tor_port", method=None, host=None, dst_ip="185.220.101.7", dst_port=port, source="pfsense")
for h in ["anydesk.com", "remotedesktop.google.com", "download.teamviewer.com", "parsec.app"]:
    url(f"https://{h}/", label="remote")
# Tunnels in firewall logs
for port, lab in ((22, "ssh"), (3389, "rdp"), (1194, "openvpn"), (51820, "wireguard")):
    for ip in ("203.0.113.9", "198.51.100.20"):
        e(lab, method=None, host=None, dst_ip=ip, dst_port=port, source="pfsense")
for ip, port in (("203.0.113.50", 8080), ("198.51.100.7", 3128), ("192.0.2.44", 1080)):
    e("connect_ip", method="CONNECT", host=ip, url=f"{ip}:{port}", dst_port=port)
# Google Translate used as a proxy for a blocked site (graded higher only with lists loaded)
url("https://www-reddit-com.translate.goog/?_x_tr_sl=auto&_x_tr_tl=en&_x_tr_hl=en", label="translate_proxy")
url("https://translate.google.com/translate?sl=auto&tl=en&u=https://www.twitch.tv/", label="translate_param")
# The filter's own category (vendor wording)
e(
    "category",
    source="fortigate",
    category="Proxy Avoidance",
    host="newproxy-site.example",
    url="https://newproxy-site.example/",
)
e(
    "category",
    source="panos",
    category="proxy-avoidance-and-anonymizers",
    host="another-unblocker.example",
    url="https://another-unblocker.example/",
)
e("category", source="netsweeper", category="Proxy Anonymizer", host="pxy-hub.example", url="https://pxy-hub.example/")
# Blocked attempts (still detected, graded lower)
url(
    "https://doge-unblocker.vercel.app/service/" + uv_encode("https://www.youtube.com/"),
    label="uv_blocked",
    action="blocked",
)
e("vpn_blocked", method="CONNECT", host="api.nordvpn.com", url="api.nordvpn.com:443", dst_port=443, action="blocked")
with open("detectors/data/circumvention/heldout_bypass.jsonl", "w") as fh:
    for row in B:
        fh.write(json.dumps(row, sort_keys=True) + "\n")
print("bypass", len(B))  # noqa: T201 - a one-off generator script reports what it wrote

ORDINARY: list[dict[str, Any]] = []


def o(u: str | None = None, **kw: Any) -> None:
    from urllib.parse import urlsplit

    kw.setdefault("action", "allowed")
    kw.setdefault("method", "GET")
    if u:
        p = urlsplit(u)
        kw.update(url=u, host=p.hostname, path=p.path or "/", query=p.query or None)
    ORDINARY.append(kw)


for u in [
    "https://www.google.com/search?q=photosynthesis+equation",
    "https://www.google.co.uk/search?q=tudor+houses",
    "https://www.google.com/url?q=https://www.bbc.co.uk/bitesize&sa=U",
    "https://accounts.google.com/ServiceLogin",
    "https://classroom.google.com/u/0/c/NTk",
    "https://docs.google.com/document/d/1abc/edit",
    "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    "https://fonts.googleapis.com/css2?family=Roboto",
    "https://www.gstatic.com/images/branding/logo.png",
    "https://login.microsoftonline.com/common/oauth2/authorize",
    "https://outlook.office.com/mail/",
    "https://teams.microsoft.com/_#/conversations",
    "https://myschool-my.sharepoint.com/personal/x/Documents",
    "https://www.office.com/launch/word",
    "https://www.bbc.co.uk/bitesize/guides/zc9f3k7/revision/1",
    "https://www.bbc.co.uk/news/education",
    "https://static.files.bbci.co.uk/core/bundle.js",
    "https://en.wikipedia.org/wiki/Photosynthesis",
    "https://upload.wikimedia.org/wikipedia/commons/a/a1/x.png",
    "https://app.senecalearning.com/dashboard",
    "https://kahoot.it/",
    "https://play.kahoot.it/v2/?quizId=123",
    "https://create.kahoot.it/details/abc",
    "https://translate.google.com/?sl=fr&tl=en&text=bonjour%20tout%20le%20monde&op=translate",
    "https://translate.google.co.uk/?sl=en&tl=es&text=homework",
    "https://translate.googleapis.com/translate_a/t?client=gtx",
    "https://www.cloudflare.com/en-gb/learning/dns/what-is-dns/",
    "https://blog.cloudflare.com/ech/",
    "https://developers.cloudflare.com/1.1.1.1/encryption/dns-over-https/",
    "https://www.cloudflare.com/",
    "https://cdnjs.cloudflare.com/ajax/libs/jquery/3.7.1/jquery.min.js",
    "https://www.gov.uk/school-term-holiday-dates",
    "https://www.nhs.uk/conditions/asthma/",
    "https://quizlet.com/gb/123/flashcards",
    "https://www.mathsgenie.co.uk/gcse.html",
    "https://www.sparxmaths.uk/student",
    "https://scratch.mit.edu/projects/editor/",
    "https://www.khanacademy.org/math/algebra",
    "https://www.duolingo.com/learn",
    "https://www.tinkercad.com/dashboard",
    "https://www.desmos.com/calculator",
    "https://github.com/python/cpython",
    "https://www.w3schools.com/python/",
    "https://www.apple.com/uk/",
    "https://www.icloud.com/",
    "https://www.theguardian.com/uk",
    "https://www.amazon.co.uk/s?k=calculator",
    "https://www.bing.com/search?q=volcano+facts",
    "https://www.bing.com/images/search?q=volcano",
]:
    o(u)
for h in [
    "www.google.com",
    "outlook.office365.com",
    "teams.microsoft.com",
    "www.bbc.co.uk",
    "en.wikipedia.org",
    "kahoot.it",
    "app.senecalearning.com",
    "www.cloudflare.com",
    "update.googleapis.com",
    "ocsp.pki.goog",
]:
    o(method="CONNECT", host=h, url=f"{h}:443", dst_port=443)
    o(method="DNS", host=h, source="dns")
# Ordinary blocked requests (a game site) and firewall lines to ordinary ports
o("http://www.coolmathgames.com/", action="blocked", category="Games")
o(method=None, host=None, dst_ip="142.250.180.14", dst_port=443, source="pfsense")
o(method=None, host=None, dst_ip="10.1.2.3", dst_port=22, source="pfsense")  # internal SSH (school server)
o(method=None, host=None, dst_ip="192.168.10.5", dst_port=3389, source="pfsense")  # internal RDP
o(method=None, host=None, dst_ip="10.0.0.53", dst_port=53, source="pfsense")
o(method="CONNECT", host="142.250.180.14", url="142.250.180.14:443", dst_port=443)
with open("detectors/data/circumvention/ordinary_traffic.jsonl", "w") as fh:
    for row in ORDINARY:
        fh.write(json.dumps(row, sort_keys=True) + "\n")
print("ordinary", len(ORDINARY))  # noqa: T201 - a one-off generator script reports what it wrote
