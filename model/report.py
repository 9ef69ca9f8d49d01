"""Writers: the self-contained HTML report, the verification worklist, table and row formats.

>>> from claimsift.model.results import SentenceResult
>>> r = SentenceResult("Prices rose.", 0, 12, "reported_fact", 0.9, {"reported_fact": 0.9}, None)
>>> "Prices rose." in render_html([("draft.txt", "Prices rose.", [r])])
True
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterable

from claimsift.model.labels import LABELS
from claimsift.model.results import SentenceResult

COLOURS = {
    "reported_fact": "#dbeafe", "attributed_quote": "#dcfce7", "speculation": "#fef3c7",
    "unverifiable_expert_claim": "#fecaca", "no_claim": "#f3f4f6",
}
_CSS = """
body{font-family:Georgia,serif;margin:0;display:flex;color:#111}
main{flex:3;padding:24px 32px;max-width:60em;line-height:1.6}
aside{flex:1.3;background:#fafafa;border-left:1px solid #ddd;padding:16px 20px;font-family:sans-serif;
font-size:14px;height:100vh;overflow:auto;position:sticky;top:0}
h1{font-family:sans-serif;font-size:20px}h2{font-family:sans-serif;font-size:16px;margin-top:28px}
.s{padding:1px 2px;border-radius:3px}.s:hover{outline:1px solid #999}
.spk{text-decoration:underline 2px #b91c1c}.role{text-decoration:underline dotted 2px #b91c1c}
.cue{font-style:italic}.legend span{display:inline-block;margin:2px 6px 2px 0;padding:2px 6px;border-radius:3px;
font-family:sans-serif;font-size:12px}.item{margin:0 0 12px;padding:8px;background:#fff;border:1px solid #e5e5e5;
border-radius:4px}.item b{display:block}.tag{font-size:11px;color:#555}.doc{white-space:pre-wrap}
"""


def _sentence_html(r: SentenceResult) -> str:
    text = r.text
    marks: list[tuple[int, int, str]] = []
    a = r.attribution
    if a is not None:
        for f, cls in ((a.speaker, "spk"), (a.role, "role"), (a.cue, "cue")):
            if f is not None and f.start is not None and f.end is not None and f.end <= len(text):
                marks.append((f.start, f.end, cls))
    marks.sort()
    out, pos = [], 0
    for s, e, cls in marks:
        if s < pos:
            continue  # overlapping spans: keep the first
        out.append(html.escape(text[pos:s]))
        out.append(f'<span class="{cls}">{html.escape(text[s:e])}</span>')
        pos = e
    out.append(html.escape(text[pos:]))
    tip = f"{r.label} ({r.confidence:.0%})" + (f" — {r.verify}" if r.verify else "")
    return (f'<span class="s" style="background:{COLOURS[r.label]}" title="{html.escape(tip)}">'
            f"{''.join(out)}</span>")


def render_html(documents: Iterable[tuple[str, str, list[SentenceResult]]], title: str = "claimsift report") -> str:
    """One self-contained HTML page: each draft coloured by label, a sidebar of what to verify."""
    body, side = [], []
    for doc_id, text, results in documents:
        parts, pos = [], 0
        for r in results:
            parts.append(html.escape(text[pos:r.start]))
            parts.append(_sentence_html(r))
            pos = r.end
        parts.append(html.escape(text[pos:]))
        body.append(f'<h2>{html.escape(doc_id)}</h2><div class="doc">{"".join(parts)}</div>')
        items = [r for r in results if r.attribution is not None]
        if items:
            side.append(f"<h2>{html.escape(doc_id)}</h2>")
            for r in items:
                a = r.attribution
                who = (html.escape(a.speaker.text) if a.speaker
                       else "<i>source named, not marked</i>" if a.named else "<i>no source given</i>")
                role = f"<br>{html.escape(a.role.text)}" if a.role else ""
                kind = "named" if a.named else "anonymous"
                side.append(
                    f'<div class="item" style="border-left:4px solid {COLOURS[r.label]}"><b>{who}</b>'
                    f'<span class="tag">{r.label} · {kind} · sentence {r.index + 1}</span>{role}'
                    f"<br><small>{html.escape(r.verify or '')}</small></div>"
                )
    legend = "".join(f'<span style="background:{COLOURS[lab]}">{lab}</span>' for lab in LABELS)
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_CSS}</style></head><body><main><h1>{html.escape(title)}</h1>"
        f'<div class="legend">{legend} <span class="spk">speaker</span> <span class="role">role</span></div>'
        f'{"".join(body)}</main><aside><h1>To verify</h1>{"".join(side) or "<p>Nothing to verify.</p>"}'
        "</aside></body></html>"
    )


def render_table(rows: list[dict]) -> str:
    """A plain-text table for the terminal."""
    out = []
    for r in rows:
        who = f" [{r['speaker']}" + (f", {r['role']}" if r.get("role") else "") + "]" if r.get("speaker") else ""
        text = r["text"] if len(r["text"]) <= 90 else r["text"][:87] + "..."
        doc = r["doc"].replace("\\", "/").rsplit("/", 1)[-1][-24:]
        out.append(f"{doc:>24} {r['index']:>3} {r['label']:<26} {r['confidence']:.2f} {text}{who}")
    return "\n".join(out) + ("\n" if out else "")


def _key(name: str) -> str:
    """Normalise a speaker's name for grouping: case, titles and punctuation ignored."""
    name = re.sub(r"^(dr|prof|mr|mrs|ms|sir|professor|doctor)\.?\s+", "", name.strip(), flags=re.I)
    return re.sub(r"[^\w ]", "", name).lower().strip()


def worklist_rows(documents: Iterable[tuple[str, list[SentenceResult]]], verified: set[str] | None = None
                  ) -> list[dict]:
    """Every speaker or expert to verify across drafts, grouped by person."""
    verified = {_key(v) for v in (verified or set())}
    groups: dict[str, dict] = {}
    for doc_id, results in documents:
        for r in results:
            a = r.attribution
            if a is None or a.speaker is None:
                continue
            g = groups.setdefault(_key(a.speaker.text) or a.speaker.text, {
                "speaker": a.speaker.text, "roles": set(), "named": a.named, "drafts": set(), "sentences": [],
                "quotes": 0, "expert_claims": 0,
            })
            if a.role:
                g["roles"].add(a.role.text)
            g["drafts"].add(doc_id)
            g["sentences"].append(f"{doc_id}#{r.index + 1}")
            g["quotes" if r.label == "attributed_quote" else "expert_claims"] += 1
    rows = []
    for key, g in sorted(groups.items(), key=lambda kv: (-len(kv[1]["sentences"]), kv[0])):
        rows.append({
            "speaker": g["speaker"], "role": "; ".join(sorted(g["roles"])), "named": g["named"],
            "status": "verified" if key in verified else "to verify",
            "drafts": "; ".join(sorted(g["drafts"])), "sentences": " ".join(g["sentences"]),
            "count": len(g["sentences"]), "quotes": g["quotes"], "expert_claims": g["expert_claims"],
        })
    return rows


def to_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return buf.getvalue()
