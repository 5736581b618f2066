import { createStore } from "/work/wt/lag/src/store/index.js";
import Database from "better-sqlite3";
const store = createStore("/tmp/plan.db"); store.close();
const db = new Database("/tmp/plan.db");
const F = "(@group IS NULL OR group_id = @group) AND (@status IS NULL OR status = @status) AND total_lag >= @minLag";
const orders = ["severity DESC, total_lag DESC, group_id", "total_lag DESC, group_id", "behind_since IS NULL, behind_since, group_id",
 "CASE trend WHEN 'growing' THEN 3 WHEN 'steady' THEN 2 WHEN 'shrinking' THEN 1 ELSE 0 END DESC, produced_rate - consumed_rate DESC, group_id"];
for (const o of orders) console.log(o.slice(0,30), db.prepare(`EXPLAIN QUERY PLAN SELECT * FROM lag_group_status WHERE ${F} ORDER BY ${o} LIMIT 51`).all({group:null,status:null,minLag:0}).map((r:any)=>r.detail).join(" | "));
console.log(db.prepare(`EXPLAIN QUERY PLAN SELECT s.* FROM lag_group_status g CROSS JOIN lag_partition_status s ON s.group_id = g.group_id AND s.topic = ? ORDER BY s.group_id, s.partition`).all("x").map((r:any)=>r.detail).join(" | "));
