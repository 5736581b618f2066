/**
 * The topics one `fetch_offsets` answer covers, as an SQL common table expression `selected(topic)`:
 * the listed topics (`@topics`, a JSON array), or, when `@topics` is NULL, the topics group `@group`
 * has committed offsets on or is assigned. Shared by the offsets read and the lookup of undecodable
 * keys the answer depends on, so both look at exactly the same topics.
 */
export const SELECTED_TOPICS_CTE = `selected(topic) AS (
         SELECT value FROM json_each(@topics) WHERE @topics IS NOT NULL
         UNION
         SELECT topic FROM committed_offsets WHERE @topics IS NULL AND group_id = @group
         UNION
         SELECT topic FROM member_assignments WHERE @topics IS NULL AND group_id = @group
       )`;
