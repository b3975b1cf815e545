WITH stranded AS (
    SELECT DISTINCT a.user_id, a.tenniscores_player_id AS old_id, lower(btrim(p.first_name)) AS fn,
           lower(btrim(p.last_name)) AS ln, p.club_id, p.series_id
    FROM user_player_associations a
    JOIN players p ON p.tenniscores_player_id = a.tenniscores_player_id AND p.league_id = %(lid)s
    WHERE (%(user)s::integer IS NULL OR a.user_id = %(user)s)
      AND NOT EXISTS (SELECT 1 FROM players q WHERE q.tenniscores_player_id = a.tenniscores_player_id AND q.is_active)
      AND NOT EXISTS (
          SELECT 1 FROM user_player_associations b JOIN players q
            ON q.tenniscores_player_id = b.tenniscores_player_id AND q.is_active AND q.league_id = %(lid)s
          WHERE b.user_id = a.user_id)
),
fresh AS (
    SELECT DISTINCT p.tenniscores_player_id AS new_id, lower(btrim(p.first_name)) AS fn,
           lower(btrim(p.last_name)) AS ln, p.club_id, p.series_id
    FROM players p
    WHERE p.league_id = %(lid)s AND p.is_active
      AND NOT EXISTS (SELECT 1 FROM user_player_associations a WHERE a.tenniscores_player_id = p.tenniscores_player_id)
),
matched AS (
    SELECT s.user_id, s.old_id, f.new_id,
           CASE WHEN f.club_id = s.club_id AND f.series_id = s.series_id THEN 1
                WHEN f.club_id = s.club_id THEN 2 ELSE 3 END AS tier
    FROM stranded s JOIN fresh f ON f.fn = s.fn AND f.ln = s.ln
),
best AS (
    SELECT user_id, old_id, min(tier) AS tier FROM matched GROUP BY user_id, old_id
),
chosen AS (
    SELECT m.user_id, m.old_id, min(m.new_id) AS new_id, m.tier
    FROM matched m JOIN best b USING (user_id, old_id, tier)
    GROUP BY m.user_id, m.old_id, m.tier HAVING count(DISTINCT m.new_id) = 1
),
per_user AS (  -- a user stranded on two old ids gets one new link per distinct new player
    SELECT DISTINCT ON (user_id, new_id) * FROM chosen ORDER BY user_id, new_id, tier, old_id
),
claims AS (SELECT new_id, count(DISTINCT user_id) AS claimants FROM per_user GROUP BY new_id),
links AS (SELECT DISTINCT user_id, old_id FROM stranded)
SELECT s.user_id, s.old_id, c.new_id, c.tier, k.claimants
FROM links s LEFT JOIN per_user c ON c.user_id = s.user_id AND c.old_id = s.old_id
LEFT JOIN claims k ON k.new_id = c.new_id
ORDER BY s.user_id, s.old_id
