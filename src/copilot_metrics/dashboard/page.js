"use strict";
// Draws the dashboard from the JSON embedded in the page. Every name from the reports is inserted
// as text (textContent), never as HTML. Charts are uPlot's; every chart's numbers are also in a
// table with a CSV download built here, so the page never makes a request.
(function () {
  const data = JSON.parse(document.getElementById("dashboard-data").textContent);
  const days = data.days;
  const times = days.map((day) => Date.parse(day + "T00:00:00Z") / 1000);
  const main = document.getElementById("main");
  const int = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
  const dec = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const TOP_TEAMS = 8;

  const number = (value) => ({ value: value, text: value === null ? "" : int.format(value) });
  const decimal = (value) => ({ value: value, text: value === null ? "" : dec.format(value) });
  const percent = (part, whole) => {
    const value = whole > 0 ? Math.round((1000 * part) / whole) / 10 : null;
    return { value: value, text: value === null ? "" : value.toFixed(1) + " %" };
  };
  const sum = (values) => values.reduce((total, value) => total + (value || 0), 0);

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // --- the range --------------------------------------------------------------------------------

  const from = document.getElementById("range-from");
  const to = document.getElementById("range-to");
  const presets = Array.from(document.querySelectorAll(".presets button"));
  let range = { start: 0, end: days.length - 1 };

  function rangeOf(first, last) {
    let start = days.findIndex((day) => day >= first);
    let end = -1;
    for (let i = days.length - 1; i >= 0; i--) if (days[i] <= last) { end = i; break; }
    if (start < 0) start = days.length - 1;
    if (end < start) end = start;
    return { start: start, end: end };
  }

  // Calendar days up to the newest day, so a history with gaps still shows the span named.
  function lastDays(count) {
    const last = days[days.length - 1];
    if (count <= 0) return { start: 0, end: days.length - 1 };
    const first = new Date((times[times.length - 1] - (count - 1) * 86400) * 1000).toISOString().slice(0, 10);
    return rangeOf(first, last);
  }

  function pick(next, pressed) {
    range = next;
    from.value = days[range.start];
    to.value = days[range.end];
    presets.forEach((button) => button.setAttribute("aria-pressed", String(button === pressed)));
    const count = range.end - range.start + 1;
    document.getElementById("range-label").textContent = days[range.start] + " – " + days[range.end] +
      " (" + count + (count === 1 ? " day)" : " days)");
    render();
  }

  // --- panels: each returns its chart's series and its table for the range ----------------------

  function daySeries(key) {
    return data.series[key].slice(range.start, range.end + 1);
  }

  function dayRows(columns) {
    const rows = [];
    for (let i = range.start; i <= range.end; i++) {
      rows.push([{ value: days[i], text: days[i] }].concat(columns.map((cell) => cell(i))));
    }
    return rows;
  }

  function seriesPanel(spec) {
    return function () {
      const series = spec.series.map((s) => ({ label: s.label, values: s.values() }));
      const table = {
        head: ["Day"].concat(spec.columns.map((c) => c.label)),
        rows: dayRows(spec.columns.map((c) => c.cell)),
      };
      return { series: series, table: table, unit: spec.unit };
    };
  }

  const s = (key) => (i) => number(data.series[key][i]);

  const PANELS = [
    {
      id: "active-users", title: "Active users",
      about: "Users active that day, in the last 7 days and in the last 28 days.",
      build: seriesPanel({
        series: [
          { label: "Daily", values: () => daySeries("daily_active_users") },
          { label: "Weekly", values: () => daySeries("weekly_active_users") },
          { label: "Monthly", values: () => daySeries("monthly_active_users") },
        ],
        columns: [
          { label: "Daily active", cell: s("daily_active_users") },
          { label: "Weekly active", cell: s("weekly_active_users") },
          { label: "Monthly active", cell: s("monthly_active_users") },
        ],
      }),
    },
    {
      id: "acceptance", title: "Acceptance rate",
      about: "Code acceptances as a share of code generations.", unit: "%",
      build: seriesPanel({
        series: [{
          label: "Acceptance rate (%)",
          values: () => daySeries("code_generations").map((g, k) =>
            percent(data.series.code_acceptances[range.start + k], g).value),
        }],
        columns: [
          { label: "Code generations", cell: s("code_generations") },
          { label: "Acceptances", cell: s("code_acceptances") },
          { label: "Acceptance rate", cell: (i) => percent(data.series.code_acceptances[i], data.series.code_generations[i]) },
        ],
      }),
    },
    {
      id: "interactions", title: "Interactions", about: "Prompts and other user-initiated interactions.",
      build: seriesPanel({
        series: [{ label: "Interactions", values: () => daySeries("interactions") }],
        columns: [{ label: "Interactions", cell: s("interactions") }],
      }),
    },
    {
      id: "lines", title: "Lines added and deleted", about: "Lines of code Copilot added and deleted.",
      build: seriesPanel({
        series: [
          { label: "Added", values: () => daySeries("lines_added") },
          { label: "Deleted", values: () => daySeries("lines_deleted") },
        ],
        columns: [
          { label: "Lines added", cell: s("lines_added") },
          { label: "Lines deleted", cell: s("lines_deleted") },
        ],
      }),
    },
    {
      id: "ai-credits", title: "AI credits", about: "AI credits used.",
      build: seriesPanel({
        series: [{ label: "AI credits", values: () => daySeries("ai_credits") }],
        columns: [{ label: "AI credits", cell: (i) => decimal(data.series.ai_credits[i]) }],
      }),
    },
    {
      id: "adoption", title: "Adoption of chat, agent, CLI and code review", about: "Users of each that day.",
      build: seriesPanel({
        series: [
          { label: "Chat", values: () => daySeries("chat_users") },
          { label: "Agent", values: () => daySeries("agent_users") },
          { label: "CLI", values: () => daySeries("cli_users") },
          { label: "Code review", values: () => daySeries("code_review_users") },
        ],
        columns: [
          { label: "Chat users", cell: s("chat_users") },
          { label: "Agent users", cell: s("agent_users") },
          { label: "CLI users", cell: s("cli_users") },
          { label: "Code review users", cell: s("code_review_users") },
        ],
      }),
    },
  ];

  const METRICS = [
    ["interactions", "Interactions"],
    ["code_generations", "Code generations"],
    ["code_acceptances", "Acceptances"],
    ["lines_added", "Lines added"],
  ];
  const DIMENSION_TITLES = { ide: "By IDE", feature: "By feature", language: "By language", model: "By model" };

  // One line per name over the days, and the same numbers as a day-by-name table with totals.
  function pivot(names, valueOf) {
    const series = names.map((name, n) => {
      const values = [];
      for (let i = range.start; i <= range.end; i++) values.push(valueOf(n, i));
      return { label: name, values: values };
    });
    const rows = dayRows(names.map((_, n) => (i) => number(valueOf(n, i))));
    const foot = [{ value: "Total", text: "Total" }].concat(series.map((line) => number(sum(line.values))));
    return { series: series, table: { head: ["Day"].concat(names), rows: rows, foot: foot } };
  }

  Object.keys(DIMENSION_TITLES).forEach((dimension) => {
    const breakdown = data.breakdowns[dimension];
    if (!breakdown || breakdown.names.length === 0) return;
    PANELS.push({
      id: "by-" + dimension, title: DIMENSION_TITLES[dimension], metrics: METRICS,
      about: "Each of the busiest names over the whole history; the rest are summed as \u201cother\u201d.",
      build: (metric) => pivot(breakdown.names, (n, i) => breakdown[metric][n][i]),
    });
  });

  // --- teams ------------------------------------------------------------------------------------

  const teams = data.teams;

  function teamTotals() {
    const totals = new Map();
    for (let r = 0; r < teams.day.length; r++) {
      const i = teams.day[r];
      if (i < range.start || i > range.end) continue;
      const t = teams.team[r];
      let total = totals.get(t);
      if (!total) {
        total = { team: t, days: 0, active: 0, interactions: 0, generations: 0, acceptances: 0, lines: 0, credits: 0 };
        totals.set(t, total);
      }
      total.days += 1;
      total.active += teams.active_users[r];
      total.interactions += teams.interactions[r];
      total.generations += teams.code_generations[r];
      total.acceptances += teams.code_acceptances[r];
      total.lines += teams.lines_added[r];
      total.credits += teams.ai_credits[r];
    }
    return Array.from(totals.values()).sort((a, b) => b.interactions - a.interactions ||
      (teams.names[a.team] < teams.names[b.team] ? -1 : 1));
  }

  if (teams.names.length > 0) {
    PANELS.push({
      id: "teams", title: "Teams", metrics: [["interactions", "Interactions"], ["active_users", "Active users"]],
      about: "The " + TOP_TEAMS + " busiest teams of the range. A user in several teams counts in each.",
      build: (metric) => {
        const top = teamTotals().slice(0, TOP_TEAMS).map((total) => total.team);
        const column = new Map(top.map((t, n) => [t, n]));
        const grid = top.map(() => new Map());
        for (let r = 0; r < teams.day.length; r++) {
          const n = column.get(teams.team[r]);
          if (n !== undefined) grid[n].set(teams.day[r], teams[metric][r]);
        }
        return pivot(top.map((t) => teams.names[t]), (n, i) => grid[n].has(i) ? grid[n].get(i) : null);
      },
    });
    PANELS.push({
      id: "team-totals", title: "All teams", about: "Every team shown, over the range.",
      build: () => ({
        table: {
          head: ["Team", "Days", "Average daily active users", "Interactions", "Code generations", "Acceptances",
            "Acceptance rate", "Lines added", "AI credits"],
          rows: teamTotals().map((t) => [
            { value: teams.names[t.team], text: teams.names[t.team] }, number(t.days),
            decimal(Math.round((100 * t.active) / t.days) / 100), number(t.interactions), number(t.generations),
            number(t.acceptances), percent(t.acceptances, t.generations), number(t.lines),
            decimal(Math.round(100 * t.credits) / 100),
          ]),
        },
      }),
    });
  }

  // --- repositories -----------------------------------------------------------------------------

  const repos = data.repos;

  // The typical time to merge over several days: the median of the days' medians, each day
  // weighted by the pull requests it merged (GitHub reports only each day's median).
  function weightedMedian(pairs) {
    pairs.sort((a, b) => a[0] - b[0]);
    const half = sum(pairs.map((p) => p[1])) / 2;
    let seen = 0;
    for (const [value, weight] of pairs) {
      seen += weight;
      if (seen >= half) return value;
    }
    return null;
  }

  if (repos.names.length > 0) {
    const REPO_FIELDS = ["created", "merged", "created_by_copilot", "reviewed_by_copilot"];
    PANELS.push({
      id: "pull-requests", title: "Pull requests", about: "Across all repositories.",
      build: () => {
        const perDay = REPO_FIELDS.map(() => new Array(days.length).fill(0));
        for (let r = 0; r < repos.day.length; r++) {
          REPO_FIELDS.forEach((field, f) => { perDay[f][repos.day[r]] += repos[field][r]; });
        }
        const labels = ["Created", "Merged", "Created by Copilot", "Reviewed by Copilot"];
        return pivot(labels, (f, i) => perDay[f][i]);
      },
    });
    PANELS.push({
      id: "repositories", title: "Repositories", about: "Repositories with pull requests in the range.",
      build: () => {
        const totals = new Map();
        for (let r = 0; r < repos.day.length; r++) {
          const i = repos.day[r];
          if (i < range.start || i > range.end) continue;
          let t = totals.get(repos.repo[r]);
          if (!t) {
            t = { repo: repos.repo[r], created: 0, reviewed: 0, merged: 0, byCopilot: 0, reviewedByCopilot: 0, times: [] };
            totals.set(repos.repo[r], t);
          }
          t.created += repos.created[r];
          t.reviewed += repos.reviewed[r];
          t.merged += repos.merged[r];
          t.byCopilot += repos.created_by_copilot[r];
          t.reviewedByCopilot += repos.reviewed_by_copilot[r];
          const minutes = repos.median_minutes_to_merge[r];
          if (minutes !== null && repos.merged[r] > 0) t.times.push([minutes, repos.merged[r]]);
        }
        const rows = Array.from(totals.values())
          .sort((a, b) => b.created - a.created || (repos.names[a.repo] < repos.names[b.repo] ? -1 : 1))
          .map((t) => [
            { value: repos.names[t.repo], text: repos.names[t.repo] }, number(t.created), number(t.merged),
            percent(t.byCopilot, t.created), percent(t.reviewedByCopilot, t.reviewed),
            decimal(weightedMedian(t.times)),
          ]);
        return {
          table: {
            head: ["Repository", "Pull requests created", "Merged", "Copilot-authored share",
              "Copilot-reviewed share", "Median minutes to merge"],
            rows: rows,
          },
        };
      },
    });
  }

  // --- drawing ----------------------------------------------------------------------------------

  // Read once per drawing pass: each read of a computed style or a width makes the browser lay out
  // the page again, and doing that per chart doubled the time the page takes to open.
  function measure() {
    const root = getComputedStyle(document.documentElement);
    const value = (name) => root.getPropertyValue(name).trim();
    const chart = sections[0].chart;
    const box = getComputedStyle(chart);
    const width = chart.clientWidth - parseFloat(box.paddingLeft) - parseFloat(box.paddingRight);
    return {
      muted: value("--fg-muted"),
      grid: value("--grid"),
      font: "12px " + getComputedStyle(document.body).fontFamily,
      palette: Array.from({ length: 11 }, (_, n) => value("--c" + n)),
      width: Math.max(width, 200),
    };
  }

  const heightFor = (width) => (width < 500 ? 200 : 240);
  // The data's grain is a day: ticks never fall between two days, however short the range.
  const DAY = 86400;
  const DAY_STEPS = [1, 2, 3, 7, 14, 28, 56, 91, 182, 364].map((days) => days * DAY);
  // Counts are whole numbers: steps of 1, 2 and 5 times a power of ten never label a tick "2.5" as "3".
  const COUNT_STEPS = Array.from({ length: 30 }, (_, n) => [1, 2, 5][n % 3] * 10 ** Math.floor(n / 3));

  function chartOptions(look, series, unit) {
    const grid = { stroke: look.grid, width: 1 };
    const axis = (extra) => Object.assign({ stroke: look.muted, grid: grid, ticks: grid, font: look.font }, extra);
    return {
      width: look.width,
      height: heightFor(look.width),
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      // Counts start at zero, so a small change does not look like a large one.
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [axis({ incrs: DAY_STEPS }), axis({ size: 56, incrs: COUNT_STEPS, values: (u, ticks) => ticks.map((v) => int.format(v) + (unit === "%" ? " %" : "")) })],
      series: [{}].concat(series.map((line, n) => ({
        label: line.label,
        stroke: look.palette[Math.min(n, 10)],
        width: 2,
        spanGaps: false,
        points: { show: false },
      }))),
    };
  }

  function tableNode(title, table) {
    const box = element("div", "table-box");
    box.tabIndex = 0;
    const node = element("table");
    node.appendChild(element("caption", "", title));
    const headRow = element("tr");
    table.head.forEach((label, c) => headRow.appendChild(element("th", c ? "num" : "", label)));
    node.appendChild(element("thead")).appendChild(headRow);
    const body = node.appendChild(element("tbody"));
    table.rows.forEach((row) => {
      const tr = body.appendChild(element("tr"));
      row.forEach((cell, c) => {
        const td = tr.appendChild(element(c ? "td" : "th", c ? "num" : "", cell.text));
        if (!c) td.scope = "row";
      });
    });
    if (table.foot) {
      const tr = node.appendChild(element("tfoot")).appendChild(element("tr"));
      table.foot.forEach((cell, c) => tr.appendChild(element(c ? "td" : "th", c ? "num" : "", cell.text)));
    }
    if (table.rows.length === 0) box.appendChild(element("p", "empty", "Nothing in this range."));
    box.appendChild(node);
    return box;
  }

  function csvOf(table) {
    const quote = (value) => {
      let text = value === null || value === undefined ? "" : String(value);
      // A name starting like a formula would run as one in a spreadsheet: make it plain text.
      if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = "'" + text;
      return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
    };
    const lines = [table.head.map(quote).join(",")];
    table.rows.concat(table.foot ? [table.foot] : []).forEach((row) => lines.push(row.map((c) => quote(c.value)).join(",")));
    return lines.join("\r\n") + "\r\n";
  }

  const sections = PANELS.map((panel) => {
    const section = element("section", "panel");
    section.id = panel.id;
    section.setAttribute("aria-labelledby", panel.id + "-title");
    const header = section.appendChild(element("header"));
    header.appendChild(element("h2", "", panel.title)).id = panel.id + "-title";
    const tools = header.appendChild(element("div", "tools"));
    let metric = null;
    if (panel.metrics) {
      const select = element("select");
      select.setAttribute("aria-label", panel.title + ": measure");
      panel.metrics.forEach(([key, label]) => {
        const option = select.appendChild(element("option", "", label));
        option.value = key;
      });
      metric = panel.metrics[0][0];
      select.addEventListener("change", () => { metric = select.value; draw(state, measure()); });
      tools.appendChild(select);
    }
    const csv = tools.appendChild(element("a", "csv", "Download CSV"));
    csv.href = "#";
    csv.download = panel.id + ".csv";
    section.appendChild(element("p", "about", panel.about));
    const chart = section.appendChild(element("div", "chart"));
    chart.setAttribute("role", "img");
    chart.setAttribute("aria-label", panel.title + ": chart of the numbers in the table below");
    const state = { panel: panel, section: section, chart: chart, plot: null, table: null };
    csv.addEventListener("click", () => {
      if (csv.href.startsWith("blob:")) URL.revokeObjectURL(csv.href);
      csv.href = URL.createObjectURL(new Blob([csvOf(state.table)], { type: "text/csv" }));
      csv.download = panel.id + "_" + days[range.start] + "_" + days[range.end] + ".csv";
    });
    state.metric = () => metric;
    main.appendChild(section);
    return state;
  });

  function draw(state, look) {
    const built = state.panel.build(state.metric());
    state.table = built.table;
    if (state.plot) { state.plot.destroy(); state.plot = null; }
    state.chart.hidden = !built.series;
    if (built.series) {
      const x = times.slice(range.start, range.end + 1);
      const options = chartOptions(look, built.series, built.unit);
      state.plot = new uPlot(options, [x].concat(built.series.map((line) => line.values)), state.chart);
    }
    const old = state.section.querySelector(".table-box");
    const box = tableNode(state.panel.title + ", " + days[range.start] + " to " + days[range.end], built.table);
    if (old) old.replaceWith(box); else state.section.appendChild(box);
  }

  function renderKpis() {
    const list = document.getElementById("kpis");
    const count = range.end - range.start + 1;
    const kpis = [
      ["Average daily active users", number(Math.round(sum(daySeries("daily_active_users")) / count))],
      ["Acceptance rate", percent(sum(daySeries("code_acceptances")), sum(daySeries("code_generations")))],
      ["Interactions", number(sum(daySeries("interactions")))],
      ["Lines added", number(sum(daySeries("lines_added")))],
      ["AI credits", decimal(Math.round(100 * sum(daySeries("ai_credits"))) / 100)],
    ];
    list.replaceChildren(...kpis.map(([name, cell]) => {
      const item = element("li");
      item.appendChild(element("span", "value", cell.text));
      item.appendChild(element("span", "name", name));
      return item;
    }));
  }

  function render() {
    renderKpis();
    const look = measure();
    sections.forEach((state) => draw(state, look));
  }

  function resize() {
    const width = measure().width;
    sections.forEach((state) => {
      if (state.plot) state.plot.setSize({ width: width, height: heightFor(width) });
    });
  }

  let resizing = 0;
  window.addEventListener("resize", () => { cancelAnimationFrame(resizing); resizing = requestAnimationFrame(resize); });
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", render);

  from.min = to.min = days[0];
  from.max = to.max = days[days.length - 1];
  const picked = () => pick(rangeOf(from.value || days[0], to.value || days[days.length - 1]), null);
  from.addEventListener("change", picked);
  to.addEventListener("change", picked);
  document.getElementById("range").addEventListener("submit", (event) => event.preventDefault());
  presets.forEach((button) => button.addEventListener("click", () => pick(lastDays(Number(button.dataset.days)), button)));
  const initial = presets.find((button) => button.dataset.days === "90");
  pick(lastDays(90), initial);
  // Once the first view is on screen (the frame after this one), say so: the browser tests wait for
  // it, and the mark tells anyone measuring how long the page took from navigation start.
  requestAnimationFrame(() => setTimeout(() => {
    document.documentElement.dataset.rendered = "true";
    performance.mark("dashboard-rendered");
  }));
})();
