// Safe Markdown for the chat page: a small CommonMark/GFM subset built with DOM calls only. No HTML in
// the text is ever interpreted (there is no innerHTML here), links keep to http(s)/mailto, and tables sit
// in a container that scrolls sideways on a phone. Single newlines are line breaks, as in a chat.
"use strict";

const MD = (() => {
  const SAFE_LINK = /^(https?:\/\/|mailto:|#)/i;
  const FENCE = /^( {0,3})(`{3,}|~{3,})\s*([\w+-]*)[^`]*$/;
  const HEADING = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
  const RULE = /^ {0,3}([-*_])(\s*\1){2,}\s*$/;
  const ITEM = /^( *)([-*+]|\d{1,9}[.)])\s+(.*)$/;
  const QUOTE = /^ {0,3}>\s?(.*)$/;
  const TABLE_RULE = /^\s*\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?\s*$/;

  function node(tag, cls, ...children) {
    const el = document.createElement(tag);
    if (cls) el.className = cls;
    for (const child of children) if (child !== null && child !== undefined) el.append(child);
    return el;
  }

  // ---- inline ----------------------------------------------------------------------------------
  function inline(text, into) {
    let plain = "";
    const flush = () => { if (plain) { into.append(plain); plain = ""; } };
    let i = 0;
    while (i < text.length) {
      const c = text[i];
      if (c === "\\" && i + 1 < text.length && /[!-/:-@[-`{-~]/.test(text[i + 1])) {
        plain += text[i + 1]; i += 2; continue;
      }
      if (c === "\n") { flush(); into.append(node("br")); i += 1; continue; }
      if (c === "`") {
        const run = text.slice(i).match(/^`+/)[0];
        const end = text.indexOf(run, i + run.length);
        if (end > 0) {
          flush();
          let body = text.slice(i + run.length, end);
          if (/^ .* $/.test(body)) body = body.slice(1, -1);
          into.append(node("code", null, body));
          i = end + run.length; continue;
        }
        plain += run; i += run.length; continue;
      }
      if ((c === "*" || c === "_") && text[i + 1] === c) {
        const end = closing(text, i + 2, c + c);
        if (end > 0) { flush(); into.append(inline(text.slice(i + 2, end), node("strong"))); i = end + 2; continue; }
      }
      if (c === "~" && text[i + 1] === "~") {
        const end = text.indexOf("~~", i + 2);
        if (end > i + 2) { flush(); into.append(inline(text.slice(i + 2, end), node("del"))); i = end + 2; continue; }
      }
      if ((c === "*" || c === "_") && text[i + 1] !== c && text[i + 1] !== " " && text[i + 1] !== undefined) {
        // `_` only at word edges: snake_case names stay as they are
        if (c === "*" || !/\w/.test(text[i - 1] || "")) {
          const end = closing(text, i + 1, c);
          if (end > 0 && (c === "*" || !/\w/.test(text[end + 1] || ""))) {
            flush(); into.append(inline(text.slice(i + 1, end), node("em"))); i = end + 1; continue;
          }
        }
      }
      if (c === "[") {
        const link = text.slice(i).match(/^\[([^\]\n]+)\]\(\s*<?([^\s)>]+)>?(?:\s+"[^"]*")?\s*\)/);
        if (link) {
          flush();
          into.append(anchor(link[2], link[1]));
          i += link[0].length; continue;
        }
      }
      if (c === "<") {
        const auto = text.slice(i).match(/^<((?:https?:\/\/|mailto:)[^\s<>]+)>/i);
        if (auto) { flush(); into.append(anchor(auto[1], null)); i += auto[0].length; continue; }
      }
      plain += c; i += 1;
    }
    flush();
    return into;
  }

  function closing(text, from, marker) {
    for (let j = from; j <= text.length - marker.length; j += 1) {
      if (text[j] === "\\") { j += 1; continue; }
      if (text[j] === "`") { const e = text.indexOf("`", j + 1); if (e > 0) { j = e; continue; } }
      if (text.startsWith(marker, j) && j > from && text[j - 1] !== " ") {
        if (marker.length === 1 && text[j + 1] === marker) { j += 1; continue; }
        return j;
      }
    }
    return -1;
  }

  function anchor(href, label) {
    if (!SAFE_LINK.test(href)) return inline(label === null ? href : label, document.createDocumentFragment());
    const a = node("a");
    a.href = href;
    if (!href.startsWith("#")) { a.target = "_blank"; a.rel = "noopener noreferrer"; }
    if (label === null) a.textContent = href; else inline(label, a);
    return a;
  }

  // ---- blocks ----------------------------------------------------------------------------------
  function cells(line) {
    let s = line.trim();
    if (s.startsWith("|")) s = s.slice(1);
    if (s.endsWith("|") && !s.endsWith("\\|")) s = s.slice(0, -1);
    const out = [];
    let cell = "";
    for (let i = 0; i < s.length; i += 1) {
      if (s[i] === "\\" && s[i + 1] === "|") { cell += "|"; i += 1; continue; }
      if (s[i] === "|") { out.push(cell.trim()); cell = ""; continue; }
      cell += s[i];
    }
    out.push(cell.trim());
    return out;
  }

  function table(lines) {
    const head = cells(lines[0]);
    const align = cells(lines[1]).map((c) => (/^:-+:$/.test(c) ? "c" : /-:$/.test(c) ? "r" : ""));
    const t = node("table");
    const row = (values, tag) => {
      const tr = node("tr");
      head.forEach((_, n) => tr.append(inline(values[n] || "", node(tag, align[n] || null))));
      return tr;
    };
    t.append(node("thead", null, row(head, "th")));
    const body = node("tbody");
    for (const line of lines.slice(2)) body.append(row(cells(line), "td"));
    t.append(body);
    return node("div", "table-wrap", t);
  }

  function code(text, lang) {
    const pre = node("pre", lang === "diff" ? "diff" : null);
    if (lang === "diff") {
      for (const line of text.split("\n")) {
        const kind = /^(\+\+\+|---)/.test(line) ? "file" : line.startsWith("+") ? "add"
          : line.startsWith("-") ? "del" : line.startsWith("@@") ? "hunk" : "";
        pre.append(node("span", kind || null, line), "\n");
      }
    } else {
      pre.append(node("code", lang ? `lang-${lang}` : null, text));
    }
    return pre;
  }

  function list(lines) {
    const first = lines[0].match(ITEM);
    const ordered = /\d/.test(first[2]);
    const el = node(ordered ? "ol" : "ul");
    if (ordered && parseInt(first[2], 10) !== 1) el.start = parseInt(first[2], 10);
    const indent = first[1].length;
    let item = null;
    const flushItem = () => { if (item) el.append(blocks(item.join("\n"), node("li"))); };
    for (const line of lines) {
      const m = line.match(ITEM);
      if (m && m[1].length === indent) { flushItem(); item = [m[3]]; continue; }
      item.push(line.replace(new RegExp(`^ {0,${indent + 2}}`), ""));
    }
    flushItem();
    return el;
  }

  function blocks(text, into) {
    const lines = text.replace(/\r\n?/g, "\n").replace(/\t/g, "    ").split("\n");
    let i = 0;
    let para = [];
    const flushPara = () => {
      if (para.length) into.append(inline(para.join("\n"), node("p")));
      para = [];
    };
    while (i < lines.length) {
      const line = lines[i];
      const fence = line.match(FENCE);
      if (fence) {
        flushPara();
        const body = [];
        const close = new RegExp(`^ {0,3}${fence[2][0]}{${fence[2].length},}\\s*$`);
        i += 1;
        while (i < lines.length && !close.test(lines[i])) { body.push(lines[i].replace(new RegExp(`^ {0,${fence[1].length}}`), "")); i += 1; }
        into.append(code(body.join("\n"), fence[3].toLowerCase()));
        i += 1; continue;
      }
      if (!line.trim()) { flushPara(); i += 1; continue; }
      const heading = line.match(HEADING);
      if (heading) { flushPara(); into.append(inline(heading[2], node(`h${Math.min(6, heading[1].length + 2)}`))); i += 1; continue; }
      if (RULE.test(line) && !para.length) { into.append(node("hr")); i += 1; continue; }
      if (line.includes("|") && i + 1 < lines.length && TABLE_RULE.test(lines[i + 1]) && lines[i + 1].includes("-")) {
        flushPara();
        const rows = [line, lines[i + 1]];
        i += 2;
        while (i < lines.length && lines[i].includes("|") && lines[i].trim()) { rows.push(lines[i]); i += 1; }
        into.append(table(rows));
        continue;
      }
      if (QUOTE.test(line)) {
        flushPara();
        const quoted = [];
        while (i < lines.length && QUOTE.test(lines[i])) { quoted.push(lines[i].match(QUOTE)[1]); i += 1; }
        into.append(blocks(quoted.join("\n"), node("blockquote")));
        continue;
      }
      const item = line.match(ITEM);
      if (item && (!para.length || item[1].length === 0)) {
        flushPara();
        const indent = item[1].length;
        const items = [line];
        i += 1;
        // the list runs while lines are items at this indent or deeper lines; a blank line ends it
        // unless the next line continues it
        while (i < lines.length) {
          const next = lines[i];
          if (!next.trim()) {
            const after = lines[i + 1] || "";
            const more = after.match(ITEM);
            if ((more && more[1].length >= indent) || /^ {2,}\S/.test(after)) { items.push(""); i += 1; continue; }
            break;
          }
          const m = next.match(ITEM);
          if ((m && m[1].length >= indent) || new RegExp(`^ {${indent + 1},}\\S`).test(next)) { items.push(next); i += 1; continue; }
          break;
        }
        into.append(list(items));
        continue;
      }
      para.push(line.replace(/^ {1,3}/, ""));
      i += 1;
    }
    flushPara();
    return into;
  }

  // Markdown `text` as a document fragment
  return { render: (text) => blocks(String(text || ""), document.createDocumentFragment()) };
})();
