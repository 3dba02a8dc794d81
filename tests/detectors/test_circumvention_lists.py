"""List import (synthetic and the UT1 sample in ../shared), suffix matching, categorise, the CLI."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from detectors.base import DetectContext
from detectors.circumvention import CircumventionDetector
from detectors.circumvention_config import CircumventionConfig
from detectors.lists import categorise, import_ip_list, import_lists, lists_for, match_hosts
from vigil.errors import InputError

_spec = importlib.util.spec_from_file_location("circ_helpers", Path(__file__).parent / "circ_helpers.py")
assert _spec and _spec.loader
helpers = importlib.util.module_from_spec(_spec)
sys.modules["circ_helpers"] = helpers
_spec.loader.exec_module(helpers)
event, table = helpers.event, helpers.table

UT1 = Path(__file__).resolve().parents[3] / "shared" / "samples" / "ut1"


def make_lists(root: Path) -> Path:
    """A tiny synthetic squidGuard tree (invented names)."""
    src = root / "src"
    proxies = "best-unblock.example\n# comment\n\n203.0.113.77\n.dotted-proxy.example\n"
    for cat, domains, urls in [
        ("redirector", proxies, "site.example/proxy/\n"),
        ("proxy", proxies, "site.example/proxy/\n"),
        ("gambling", "bet-big.example\n", ""),
        ("translation", "translator.example\n", ""),
    ]:
        (src / cat).mkdir(parents=True)
        (src / cat / "domains").write_text(domains)
        if urls:
            (src / cat / "urls").write_text(urls)
    return src


def test_import_aliases_suffix_ips_urls(tmp_path: Path) -> None:
    src = make_lists(tmp_path)
    summary = import_lists(src, tmp_path / "lists", "synth")
    assert summary.aliases == {"proxy": "redirector"}
    assert summary.domains == {"gambling": 1, "redirector": 2, "translation": 1}
    assert summary.ips == {"redirector": 1}
    lists = lists_for(tmp_path / "lists")
    hits = match_hosts(pl.Series(["a.b.best-unblock.example", "dotted-proxy.example", "203.0.113.77",
                                  "unblock.example", "bet-big.example", "example"]), lists)
    got = dict(zip(hits["host"].to_list(), hits["labels"].to_list(), strict=True))
    assert got == {"a.b.best-unblock.example": "synth:redirector", "dotted-proxy.example": "synth:redirector",
                   "203.0.113.77": "synth:redirector", "bet-big.example": "synth:gambling"}
    # Re-import replaces the set atomically and the cache notices.
    (src / "gambling" / "domains").write_text("bet-big.example\nspin.example\n")
    import_lists(src, tmp_path / "lists", "synth")
    assert lists_for(tmp_path / "lists").domains.height == 5


def test_categorise_fills_only_missing_categories(tmp_path: Path) -> None:
    import_lists(make_lists(tmp_path), tmp_path / "lists", "synth")
    lists = lists_for(tmp_path / "lists")
    rows = [event(0, url="https://www.bet-big.example/"), event(1, url="https://best-unblock.example/",
                                                                category="Vendor Cat"),
            event(2, url="https://www.bbc.co.uk/"), event(3, method=None, dst_ip="203.0.113.77", dst_port=443)]
    out = categorise(table(rows), lists)
    assert out.schema == table(rows).schema
    assert out.column("category").to_pylist() == ["synth:gambling", "Vendor Cat", None, "synth:redirector"]


def test_list_hits_alert_and_annotate_only(tmp_path: Path) -> None:
    import_lists(make_lists(tmp_path), tmp_path / "lists", "synth")
    det = CircumventionDetector(config=CircumventionConfig(), lists=lists_for(tmp_path / "lists"), use_model=False)
    rows = [event(0, url="https://best-unblock.example/"), event(1, user="p2", url="https://translator.example/"),
            event(2, user="p3", url="https://site.example/proxy/index.php"),
            event(3, user="p4", url="https://www-bet--big-example.translate.goog/?_x_tr_sl=auto")]
    found = det.scan(table(rows), DetectContext()).sort("_row")
    assert found["rule"].to_list() == ["list:synth:redirector", "list:synth:redirector", "signature:translate.proxy"]
    assert found["severity"].to_list() == [4, 4, 4]  # translate proxy of a listed site is graded as that site
    assert "bet-big.example" in found["why"][2]


def test_tor_ip_list(tmp_path: Path) -> None:
    f = tmp_path / "relays.txt"
    f.write_text("# onionoo export\n185.220.101.1\n185.220.101.2/32\nnot-an-ip\n")
    summary = import_ip_list(f, tmp_path / "lists", "tor", "tor")
    assert summary.ips == {"tor": 2}
    det = CircumventionDetector(config=CircumventionConfig(), lists=lists_for(tmp_path / "lists"), use_model=False)
    found = det.scan(table([event(0, method=None, dst_ip="185.220.101.2", dst_port=443)]), DetectContext())
    assert found["rule"].to_list() == ["list:tor:tor"]


def test_import_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        import_lists(tmp_path / "missing", tmp_path / "lists")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="UT1/squidGuard"):
        import_lists(tmp_path / "empty", tmp_path / "lists")


def test_cli_import_and_show(tmp_path: Path) -> None:
    from vigil.cli import app

    src = make_lists(tmp_path)
    runner = CliRunner()
    res = runner.invoke(app, ["--data", str(tmp_path / "var"), "lists", "import", str(src), "--name", "synth"])
    assert res.exit_code == 0, res.output
    assert "synth:redirector" in res.output and "identical to redirector" in res.output
    res = runner.invoke(app, ["--data", str(tmp_path / "var"), "lists", "show"])
    assert res.exit_code == 0 and "synth" in res.output and "circumvention (alerts)" in res.output


@pytest.mark.skipif(not UT1.is_dir(), reason=f"UT1 sample not present at {UT1} (../shared/samples/ut1)")
def test_ut1_sample_import(tmp_path: Path) -> None:
    summary = import_lists(UT1, tmp_path / "lists", "ut1")
    assert summary.aliases.get("proxy") == "redirector"
    assert summary.domains["redirector"] > 100_000 and summary.domains["vpn"] > 5_000
    lists = lists_for(tmp_path / "lists")
    det = CircumventionDetector(config=CircumventionConfig(), lists=lists, use_model=False)
    ordinary = [event(i, user=f"p{i}", url=u) for i, u in enumerate([
        "https://www.google.com/", "https://www.bbc.co.uk/news", "https://en.wikipedia.org/wiki/Tudor",
        "https://kahoot.it/", "https://translate.google.com/?sl=fr&tl=en&text=chat",
        "https://images.search.yahoo.com/search/images?p=volcano"])]
    assert [a for a in det.detect(table(ordinary), DetectContext()) if a.severity >= 2] == []
    vpn = lists.domains.filter(pl.col("labels") == "ut1:vpn", pl.col("domain").str.ends_with(".info"))["domain"][0]
    assert det.scan(table([event(0, url=f"https://{vpn}/")]), DetectContext())["rule"].to_list() == ["list:ut1:vpn"]
