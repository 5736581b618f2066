// The built-in web view (/ui): plain browser JavaScript, no build step. Every number comes from
// /api/v1 with the bearer token from this tab's sessionStorage; nothing is written anywhere else.
// Text from the cluster is always set with textContent (never parsed as HTML).
"use strict";
(function () {
  const REFRESH_MS = 5000;
  const TOKEN_KEY = "kafscale-mcp-token";
  const SPARK_GROUPS = 25;
  const view = document.getElementById("view");
  const banner = document.getElementById("banner");
  let timer = null;
  let generation = 0;
  const charts = [];

  // ---- small DOM helpers -------------------------------------------------------------------
  function h(tag, attrs, children) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined) continue;
      if (name === "class") el.className = value;
      else el.setAttribute(name, String(value));
    }
    for (const child of [].concat(children === undefined ? [] : children)) {
      if (child === null || child === undefined) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }
  const fmt = (n) => (n === null || n === undefined ? "–" : Number(n).toLocaleString("en-US"));
  function seconds(s) {
    if (s === null || s === undefined) return "–";
    if (s < 60) return `${Math.round(s)} s`;
    if (s < 3600) return `${Math.round(s / 60)} min`;
    if (s < 86400) return `${(s / 3600).toFixed(1)} h`;
    return `${(s / 86400).toFixed(1)} d`;
  }
  const statusBadge = (status) => h("span", { class: `status ${status || "UNKNOWN"}` }, status || "not judged");
  const groupLink = (id) => h("a", { href: `#/group/${encodeURIComponent(id)}` }, id);
  function table(headers, rows) {
    return h("table", {}, [
      h("thead", {}, h("tr", {}, headers.map(([label, num]) => h("th", { class: num ? "num" : null }, label)))),
      h("tbody", {}, rows),
    ]);
  }
  const cell = (content, num) => h("td", { class: num ? "num" : null }, content);
  function section(title, body, id) {
    return h("section", { id }, [h("h2", {}, title)].concat(body));
  }

  // ---- data --------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }
  async function api(path) {
    const headers = { Accept: "application/json" };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = `Bearer ${token}`;
    const res = await fetch(`../api/v1${path}`, { headers, cache: "no-store", credentials: "omit" });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new ApiError(res.status, body.error_description || body.error || res.statusText);
    return body;
  }
  const optional = (promise) => promise.catch((err) => (err instanceof ApiError && err.status === 404 ? null : Promise.reject(err)));

  function showFreshness(freshness) {
    if (!freshness) return;
    const age = freshness.age_ms === null ? "unknown age" : `${seconds(freshness.age_ms / 1000)} old`;
    if (freshness.stale) {
      banner.className = "stale";
      banner.textContent = `Stale snapshot (revision ${freshness.revision}, ${age}): ${freshness.stale_reasons.join("; ")}`;
    } else {
      const source = freshness.source === "demo" ? "demo data" : "live snapshot";
      banner.className = "fresh";
      banner.textContent = `Fresh ${source}: revision ${freshness.revision}, ${age}`;
    }
  }
  function showError(err) {
    banner.className = "error";
    banner.textContent =
      err instanceof ApiError && (err.status === 401 || err.status === 403)
        ? `Not authorised (${err.status}): ${err.message}. Enter a bearer token above.`
        : `Cannot load: ${err.message}`;
  }

  // ---- charts (uPlot) ----------------------------------------------------------------------
  function dropCharts() {
    while (charts.length) charts.pop().destroy();
  }
  function seriesOf(history) {
    return [history.points.map((p) => Date.parse(p.at) / 1000), history.points.map((p) => p.lag)];
  }
  /** Draws `history` into `container` with uPlot options `opts`, or says there is none yet. */
  function plot(container, history, opts, empty) {
    if (history.points.length === 0) {
      container.append(empty);
      return;
    }
    charts.push(new uPlot({ scales: { x: { time: true } }, ...opts }, seriesOf(history), container));
  }
  function sparkline(container, history) {
    plot(
      container,
      history,
      {
        width: 160,
        height: 36,
        cursor: { show: false },
        legend: { show: false },
        axes: [{ show: false }, { show: false }],
        series: [{}, { stroke: "#0969da", width: 1.5, fill: "rgba(9,105,218,.12)" }],
      },
      h("span", { class: "muted" }, "no history yet"),
    );
  }
  function lagChart(container, history) {
    plot(
      container,
      history,
      {
        width: Math.max(400, Math.min(1200, container.clientWidth || 900)),
        height: 240,
        series: [{}, { label: "total lag", stroke: "#0969da", width: 2, fill: "rgba(9,105,218,.10)" }],
        axes: [{}, { size: 90 }],
      },
      h("p", { class: "muted" }, "No lag history in the window yet."),
    );
  }

  // ---- views -------------------------------------------------------------------------------
  async function overview() {
    const [cluster, lag] = await Promise.all([api("/cluster"), api("/lag?sort=lag&limit=100")]);
    const histories = await Promise.all(
      lag.groups.slice(0, SPARK_GROUPS).map((g) => api(`/groups/${encodeURIComponent(g.group_id)}/history`).catch(() => null)),
    );
    return {
      freshness: cluster.freshness,
      render() {
        document.getElementById("cluster-name").textContent = cluster.cluster_name || cluster.cluster_id || "";
        const s3 = cluster.s3 || {};
        const cards = h("div", { class: "cards" }, [
          card("Brokers", fmt(cluster.brokers.length)),
          card("Topics", fmt(cluster.topic_count)),
          card("Partitions", fmt(cluster.partition_count)),
          card("Consumer groups", fmt(lag.groups.length) + (lag.truncated ? "+" : "")),
          card("S3", s3.state || "no metrics", s3.state ? `${fmt(s3.latency_ms)} ms, errors ${s3.error_rate ?? "–"}` : null),
          card("etcd", cluster.etcd ? cluster.etcd.state : "–", cluster.etcd ? `revision ${fmt(cluster.etcd.revision)}` : null),
        ]);
        const brokers = table(
          [["Broker"], ["Host"], ["Port", true], ["Rack"]],
          cluster.brokers.map((b) => h("tr", {}, [cell(b.node_id), cell(b.host), cell(b.port, true), cell(b.rack || "–")])),
        );
        const groups = table(
          [["Group"], ["Status"], ["Total lag", true], ["Time lag", true], ["Trend"], ["Lag over the window"]],
          lag.groups.map((g, i) => {
            const spark = h("td", { class: "spark-cell" }, h("div", { class: "spark" }));
            const row = h("tr", { "data-group": g.group_id }, [
              cell(groupLink(g.group_id)),
              cell(statusBadge(g.status)),
              cell(fmt(g.total_lag), true),
              cell(seconds(g.time_lag_seconds), true),
              cell(g.trend),
              spark,
            ]);
            row.sparkHistory = histories[i];
            return row;
          }),
        );
        view.replaceChildren(
          section("Cluster", [cards]),
          section("Brokers", [brokers]),
          section("Consumer groups by lag", [groups, h("p", { class: "muted" }, `Statuses evaluated at ${lag.evaluated_at}; window ${seconds(lag.window_seconds)}.`)], "groups"),
        );
        for (const row of groups.querySelectorAll("tr[data-group]")) {
          if (row.sparkHistory) sparkline(row.querySelector(".spark"), row.sparkHistory);
        }
      },
    };
  }
  function card(label, value, note) {
    return h("div", { class: "card" }, [h("div", { class: "value" }, value), h("div", { class: "label" }, label), note ? h("div", { class: "label" }, note) : null]);
  }

  async function groupPage(id) {
    const path = `/groups/${encodeURIComponent(id)}`;
    const [group, offsets, history] = await Promise.all([api(path), api(`${path}/offsets?limit=1000`), api(`${path}/history`)]);
    return {
      freshness: group.freshness,
      render() {
        const lag = group.lag;
        const summary = h("div", { class: "cards" }, [
          card("Status", lag ? statusBadge(lag.status) : statusBadge(null)),
          card("Total lag", fmt(lag ? lag.total_lag : offsets.total_lag)),
          card("Time lag", seconds(lag ? lag.time_lag_seconds : null)),
          card("Trend", lag ? lag.trend : "–"),
          card("State", group.state),
          card("Members", fmt(group.members.length)),
        ]);
        const chart = h("div", { class: "chart", id: "group-chart" });
        const members = table(
          [["Member"], ["Client"], ["Host"], ["Assignments"]],
          group.members.map((m) =>
            h("tr", {}, [cell(m.member_id), cell(m.client_id), cell(m.client_host), cell(m.assignments.map((a) => `${a.topic} [${a.partitions.join(", ")}]`).join("; "))]),
          ),
        );
        const partitions = table(
          [["Topic"], ["Partition", true], ["Status"], ["Committed", true], ["End offset", true], ["Lag", true], ["Time lag", true], ["Committed at"]],
          offsets.offsets.map((o) =>
            h("tr", {}, [
              cell(o.topic),
              cell(o.partition, true),
              cell(statusBadge(o.status)),
              cell(o.committed ? fmt(o.offset) : "never", true),
              cell(fmt(o.end_offset), true),
              cell(fmt(o.lag), true),
              cell(seconds(o.time_lag_seconds), true),
              cell(o.committed_at || "–"),
            ]),
          ),
        );
        view.replaceChildren(
          h("h2", {}, ["Group ", h("span", { id: "group-name" }, id)]),
          section("Summary", [summary]),
          section(`Lag over the window (${seconds(history.window_seconds)})`, [chart]),
          section("Partitions", [partitions, offsets.truncated ? h("p", { class: "muted" }, "More partitions than shown (the most-lagging first).") : null]),
          section("Members", [group.members.length ? members : h("p", { class: "muted" }, "No members (known from its offsets).")]),
        );
        lagChart(chart, history);
      },
    };
  }

  async function topics() {
    const list = await api("/topics?limit=1000");
    return {
      freshness: list.freshness,
      render() {
        view.replaceChildren(
          section(`Topics (${fmt(list.topics.length)}${list.truncated ? "+" : ""})`, [
            table(
              [["Topic"], ["Partitions", true], ["Error code", true]],
              list.topics.map((t) => h("tr", {}, [cell(t.name), cell(fmt(t.partition_count), true), cell(t.error_code, true)])),
            ),
          ]),
        );
      },
    };
  }

  async function changes() {
    const feed = await optional(api("/changes?limit=100"));
    return {
      freshness: feed ? feed.freshness : null,
      render() {
        const body = feed
          ? feed.changes.length
            ? table(
                [["At"], ["Revision", true], ["Kind"], ["Summary"]],
                feed.changes.map((c) => h("tr", {}, [cell(c.at), cell(c.revision, true), cell(c.kind), cell(c.summary)])),
              )
            : h("p", { class: "muted" }, "No changes recorded yet.")
          : h("p", { class: "muted" }, "This service has no change feed.");
        view.replaceChildren(section("Recent changes", [body]));
      },
    };
  }

  // ---- routing and refresh ------------------------------------------------------------------
  function route() {
    const hash = location.hash.replace(/^#\/?/, "");
    if (hash.startsWith("group/")) return () => groupPage(decodeURIComponent(hash.slice("group/".length)));
    if (hash === "topics") return topics;
    if (hash === "changes") return changes;
    return overview;
  }
  async function refresh() {
    const mine = ++generation;
    try {
      const page = await route()();
      if (mine !== generation) return;
      dropCharts();
      page.render();
      showFreshness(page.freshness);
      document.getElementById("updated").textContent = `Updated ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      if (mine === generation) showError(err);
    }
  }
  function restart() {
    clearInterval(timer);
    refresh();
    timer = setInterval(refresh, REFRESH_MS);
  }

  document.getElementById("refresh-seconds").textContent = String(REFRESH_MS / 1000);
  document.getElementById("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = document.getElementById("token");
    if (input.value) sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    input.value = "";
    restart();
  });
  document.getElementById("token-clear").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    restart();
  });
  window.addEventListener("hashchange", restart);
  restart();
})();
