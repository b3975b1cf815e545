WITH owners AS (
    SELECT a.id, a.player_name, a.match_date, a.updated_at, min(x.user_id) AS user_id
    FROM player_availability a
    JOIN players p ON p.id = a.player_id
    JOIN user_player_associations x ON x.tenniscores_player_id = p.tenniscores_player_id
    WHERE a.user_id IS NULL
    GROUP BY a.id, a.player_name, a.match_date, a.updated_at
    HAVING count(DISTINCT x.user_id) = 1
),
one_per_date AS (  -- the app allows one row per (user, date): the newest gets the user, never a second
    SELECT *, row_number() OVER (PARTITION BY user_id, match_date ORDER BY updated_at DESC NULLS LAST, id DESC) AS n
    FROM owners o
    WHERE NOT EXISTS (SELECT 1 FROM player_availability b WHERE b.user_id = o.user_id AND b.match_date = o.match_date)
)
SELECT id, player_name, match_date, user_id FROM one_per_date
WHERE n = 1 AND (%(user)s::integer IS NULL OR user_id = %(user)s)
ORDER BY id
