WITH linked AS (
    SELECT DISTINCT a.user_id, p.league_id, p.tenniscores_player_id, p.team_id
    FROM scope_users s
    JOIN user_player_associations a ON a.user_id = s.user_id
    JOIN players p ON p.tenniscores_player_id = a.tenniscores_player_id AND p.is_active
),
ids AS (SELECT DISTINCT user_id, league_id, tenniscores_player_id FROM linked),
played AS (
    SELECT ms.league_id, slot.pid, count(*) AS matches, max(ms.match_date) AS last_match
    FROM match_scores ms
    CROSS JOIN LATERAL unnest(ARRAY[ms.home_player_1_id, ms.home_player_2_id,
                                    ms.away_player_1_id, ms.away_player_2_id]) AS slot(pid)
    WHERE slot.pid IN (SELECT tenniscores_player_id FROM ids)
    GROUP BY ms.league_id, slot.pid
),
team_evidence AS (
    SELECT user_id, league_id, bool_or(team_id IS NOT NULL) AS has_team, min(team_id) AS team_id
    FROM linked GROUP BY user_id, league_id
),
per_league AS (
    SELECT i.user_id, i.league_id,
           coalesce(sum(pl.matches), 0) AS matches, max(pl.last_match) AS last_match,
           bool_or(t.has_team) AS has_team, min(t.team_id) AS team_id
    FROM ids i
    JOIN team_evidence t ON t.user_id = i.user_id AND t.league_id = i.league_id
    LEFT JOIN played pl ON pl.league_id = i.league_id AND pl.pid = i.tenniscores_player_id
    GROUP BY i.user_id, i.league_id
)
