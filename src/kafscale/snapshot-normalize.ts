/**
 * What a decoded snapshot may list that no consistent table can hold: topics without a name, the
 * same topic twice, the same partition twice within a topic, the same broker twice. Kafscale does
 * not write these on purpose, but the JSON can hold them, and keeping them would make counts
 * disagree (a nameless topic is counted but can never be listed or asked for; a second "orders"
 * replaces the first in one table and adds its partitions to another).
 *
 * The rule, the same everywhere: an entry without a name is dropped; of entries with the same name
 * (or partition number, or node ID) the first one listed in the document wins. Each kind of drop is
 * reported as one warning, so the value still decodes (the rest of the cluster is served) and the
 * store records what was ignored. Pure, no I/O.
 */
import type { ClusterSnapshot, SnapshotTopic } from "./records.js";

/** How many dropped names a warning quotes before it says "…". */
const QUOTED_NAMES = 5;

function warning(count: number, what: string, names: string[]): string {
  const shown = names.slice(0, QUOTED_NAMES).join(", ");
  return `${count} ${what} ignored (the first listed wins): ${shown}${names.length > QUOTED_NAMES ? ", …" : ""}`;
}

/**
 * Keeps the first of adjacent equal entries of a sorted list (sorting is stable, so "first" is the
 * document's order). Returns the same array when nothing repeats; pushes each dropped label.
 */
function firstOfEach<T>(sorted: T[], same: (a: T, b: T) => boolean, label: (item: T) => string, dropped: string[]): T[] {
  let repeats = false;
  for (let i = 1; i < sorted.length && !repeats; i++) repeats = same(sorted[i - 1] as T, sorted[i] as T);
  if (!repeats) return sorted;
  return sorted.filter((item, i) => {
    const keep = i === 0 || !same(sorted[i - 1] as T, item);
    if (!keep) dropped.push(label(item));
    return keep;
  });
}

/**
 * Drops nameless topics and repeated topics, partitions and brokers (first listed wins) from a
 * decoded snapshot whose lists are sorted, and pushes one warning per kind of drop to `warnings`.
 * Returns the snapshot itself when there is nothing to drop (the common case: no copies).
 */
export function normalizeSnapshot(snapshot: ClusterSnapshot, warnings: string[] = []): ClusterSnapshot {
  const droppedBrokers: string[] = [];
  const brokers = firstOfEach(snapshot.brokers, (a, b) => a.nodeId === b.nodeId, (b) => `node ${b.nodeId}`, droppedBrokers);

  let nameless = 0;
  for (const t of snapshot.topics) if (t.name === "") nameless++;
  const named = nameless > 0 ? snapshot.topics.filter((t) => t.name !== "") : snapshot.topics;
  const droppedTopics: string[] = [];
  const unique = firstOfEach(named, (a, b) => a.name === b.name, (t) => JSON.stringify(t.name), droppedTopics);
  const droppedPartitions: string[] = [];
  // Copied only from the first topic whose partitions change (the common case copies nothing).
  let changed: SnapshotTopic[] | null = null;
  unique.forEach((t, i) => {
    const partitions = firstOfEach(
      t.partitions,
      (a, b) => a.partition === b.partition,
      (p) => `${JSON.stringify(t.name)}/${p.partition}`,
      droppedPartitions,
    );
    if (partitions !== t.partitions) (changed ??= unique.slice(0, i)).push({ ...t, partitions });
    else changed?.push(t);
  });
  const topics = changed ?? unique;

  if (nameless > 0) warnings.push(`${nameless} topic${nameless === 1 ? "" : "s"} without a name (null or "") ignored`);
  if (droppedTopics.length > 0) warnings.push(warning(droppedTopics.length, "duplicate topic entries", droppedTopics));
  if (droppedPartitions.length > 0) {
    warnings.push(warning(droppedPartitions.length, "duplicate partition entries", droppedPartitions));
  }
  if (droppedBrokers.length > 0) warnings.push(warning(droppedBrokers.length, "duplicate broker entries", droppedBrokers));
  if (topics === snapshot.topics && brokers === snapshot.brokers) return snapshot;
  return { ...snapshot, brokers, topics };
}
