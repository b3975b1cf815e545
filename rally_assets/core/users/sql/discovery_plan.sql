WITH targets AS (  -- every eligible user: ambiguity is judged over all of them, scope and limit come last
    SELECT u.id AS user_id, lower(btrim(u.first_name)) AS fn, lower(btrim(u.last_name)) AS ln,
           dense_rank() OVER (ORDER BY c.n, u.created_at DESC, u.id) AS turn
    FROM users u
    LEFT JOIN LATERAL (SELECT count(*) AS n FROM user_player_associations a WHERE a.user_id = u.id) c ON true
    WHERE length(btrim(u.first_name)) >= 2 AND length(btrim(u.last_name)) >= 2
      AND u.email NOT LIKE '%%@placeholder.rally'
      AND c.n < 2
),
names AS (
    SELECT user_id, fn AS first, ln, true AS exact FROM targets
    UNION ALL
    SELECT t.user_id, v.variant, t.ln, false FROM targets t
    JOIN unnest(%(names)s::text[], %(variants)s::text[]) AS v(name, variant) ON v.name = t.fn
),
candidates AS (
    SELECT n.user_id, p.league_id, p.tenniscores_player_id, bool_or(n.exact) AS exact
    FROM names n JOIN players p
      ON p.is_active AND lower(btrim(p.first_name)) = n.first AND lower(btrim(p.last_name)) = n.ln
    GROUP BY n.user_id, p.league_id, p.tenniscores_player_id
),
unique_in_league AS (
    SELECT user_id, league_id, min(tenniscores_player_id) AS tenniscores_player_id, bool_and(exact) AS exact
    FROM candidates GROUP BY user_id, league_id HAVING count(*) = 1
),
unclaimed AS (
    SELECT c.*, count(*) OVER (PARTITION BY c.tenniscores_player_id) AS claimants
    FROM unique_in_league c
    WHERE NOT EXISTS (SELECT 1 FROM user_player_associations a WHERE a.tenniscores_player_id = c.tenniscores_player_id)
      AND NOT EXISTS (  -- the user already has a player in that league
          SELECT 1 FROM user_player_associations a JOIN players p ON p.tenniscores_player_id = a.tenniscores_player_id
          WHERE a.user_id = c.user_id AND p.league_id = c.league_id)
)
SELECT x.user_id, u.email, l.league_id AS league, x.tenniscores_player_id,
       CASE WHEN x.exact THEN 90 ELSE 85 END AS confidence,
       CASE WHEN x.exact THEN 'the only active player in ' || l.league_id || ' with this first and last name'
            ELSE 'the only active player in ' || l.league_id || ' with a variant of this first name and this last name'
       END AS reason
FROM unclaimed x JOIN users u ON u.id = x.user_id JOIN leagues l ON l.id = x.league_id
WHERE x.claimants = 1  -- two users matching one player: neither gets it
  AND (%(user)s::integer IS NULL OR x.user_id = %(user)s)
  AND x.user_id IN (SELECT user_id FROM targets WHERE (%(user)s::integer IS NOT NULL OR turn <= %(limit)s))
ORDER BY x.user_id, l.league_id
