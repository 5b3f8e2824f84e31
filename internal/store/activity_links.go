package store

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// ActivityLink is one Salesforce activity written to a Jira issue as a comment or worklog.
// JiraItemID is "" while the create is in flight.
type ActivityLink struct {
	SfActivityID, Kind, OriginKey, JiraIssueID, JiraItemID, ContentHash string
}

// ActivityLinks returns the activities written for a pair, keyed by kind + "/" + Salesforce id.
func (s *Store) ActivityLinks(ctx context.Context, originKey string) (map[string]ActivityLink, error) {
	rows, err := s.pool.Query(ctx, `SELECT sf_activity_id, kind, origin_key, jira_issue_id, coalesce(jira_item_id, ''), content_hash
		FROM activity_links WHERE origin_key = $1`, originKey)
	if err != nil {
		return nil, unavailable("read activity links", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ActivityLink, error) {
		var l ActivityLink
		err := r.Scan(&l.SfActivityID, &l.Kind, &l.OriginKey, &l.JiraIssueID, &l.JiraItemID, &l.ContentHash)
		return l, err
	})
	if err != nil {
		return nil, unavailable("read activity links", err)
	}
	out := make(map[string]ActivityLink, len(list))
	for _, l := range list {
		out[l.Kind+"/"+l.SfActivityID] = l
	}
	return out, nil
}

// SaveActivityLink records an activity's intent (JiraItemID "") or its written comment or
// worklog with the content hash written.
func (s *Store) SaveActivityLink(ctx context.Context, l ActivityLink) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO activity_links (sf_activity_id, kind, origin_key, jira_issue_id, jira_item_id, content_hash)
		VALUES ($1, $2, $3, $4, nullif($5, ''), $6)
		ON CONFLICT (sf_activity_id, kind) DO UPDATE SET jira_issue_id = EXCLUDED.jira_issue_id,
		  jira_item_id = coalesce(EXCLUDED.jira_item_id, activity_links.jira_item_id), content_hash = EXCLUDED.content_hash, updated_at = now()`,
		l.SfActivityID, l.Kind, l.OriginKey, l.JiraIssueID, l.JiraItemID, l.ContentHash)
	if err != nil {
		return unavailable("save activity link", err)
	}
	return nil
}
