/**
 * The topics one `fetch_offsets` answer covers, as SQL common table expressions ending in
 * `selected(topic)`: the listed topics (`@topics`, a JSON array), or, when `@topics` is NULL, the
 * topics group `@group` has committed offsets on or is assigned. Shared by the offsets reads and the
 * lookup of undecodable keys the answer depends on, so all of them look at exactly the same topics.
 * Use after `WITH RECURSIVE`: the group's committed topics are found with one index seek per topic
 * (a "next topic after" walk), not by reading every commit of the group.
 */
export const SELECTED_TOPICS_CTE = `committed_topic(topic) AS (
         SELECT min(topic) FROM committed_offsets WHERE @topics IS NULL AND group_id = @group
         UNION ALL
         SELECT (SELECT min(topic) FROM committed_offsets WHERE group_id = @group AND topic > c.topic)
         FROM committed_topic c WHERE c.topic IS NOT NULL
       ), selected(topic) AS (
         SELECT value FROM json_each(@topics) WHERE @topics IS NOT NULL
         UNION
         SELECT topic FROM committed_topic WHERE topic IS NOT NULL
         UNION
         SELECT topic FROM member_assignments WHERE @topics IS NULL AND group_id = @group
       )`;
