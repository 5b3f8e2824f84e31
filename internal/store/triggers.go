package store

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// TriggerStates returns, per trigger of a pair, whether its condition held at the last sync.
// A trigger missing from the map has no recorded state yet (a new pair, or a trigger added to
// the mapping): its first evaluation is recorded as the baseline and does not fire.
func (s *Store) TriggerStates(ctx context.Context, originKey string) (map[string]bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT trigger_name, holds FROM trigger_state WHERE origin_key = $1`, originKey)
	if err != nil {
		return nil, unavailable("read trigger state", err)
	}
	out := map[string]bool{}
	var name string
	var holds bool
	_, err = pgx.ForEachRow(rows, []any{&name, &holds}, func() error {
		out[name] = holds
		return nil
	})
	if err != nil {
		return nil, unavailable("read trigger state", err)
	}
	return out, nil
}

// SaveTriggerStates records the trigger conditions a sync saw (upsert per trigger).
func (s *Store) SaveTriggerStates(ctx context.Context, originKey string, states map[string]bool) error {
	if len(states) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for name, holds := range states {
		b.Queue(`INSERT INTO trigger_state (origin_key, trigger_name, holds) VALUES ($1, $2, $3)
			ON CONFLICT (origin_key, trigger_name) DO UPDATE SET holds = EXCLUDED.holds, updated_at = now()
			WHERE trigger_state.holds IS DISTINCT FROM EXCLUDED.holds`, originKey, name, holds)
	}
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return unavailable("save trigger state", err)
	}
	return nil
}

// TriggerItem is one thing a trigger created in Jira for a pair: Item is "version" or
// "story-N"; JiraID is "" while the create is in flight.
type TriggerItem struct {
	OriginKey, Trigger, Item, JiraID, JiraKey string
}

// TriggerItems returns what a trigger created (or started creating) for a pair, by item.
func (s *Store) TriggerItems(ctx context.Context, originKey, trigger string) (map[string]TriggerItem, error) {
	rows, err := s.pool.Query(ctx, `SELECT item, coalesce(jira_id, ''), coalesce(jira_key, '') FROM trigger_items
		WHERE origin_key = $1 AND trigger_name = $2`, originKey, trigger)
	if err != nil {
		return nil, unavailable("read trigger items", err)
	}
	out := map[string]TriggerItem{}
	it := TriggerItem{OriginKey: originKey, Trigger: trigger}
	_, err = pgx.ForEachRow(rows, []any{&it.Item, &it.JiraID, &it.JiraKey}, func() error {
		out[it.Item] = it
		return nil
	})
	if err != nil {
		return nil, unavailable("read trigger items", err)
	}
	return out, nil
}

// SaveTriggerItem records an intent (JiraID "") or what was created; a recorded id is never
// replaced by an intent.
func (s *Store) SaveTriggerItem(ctx context.Context, it TriggerItem) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO trigger_items (origin_key, trigger_name, item, jira_id, jira_key)
		VALUES ($1, $2, $3, nullif($4, ''), nullif($5, ''))
		ON CONFLICT (origin_key, trigger_name, item) DO UPDATE SET
			jira_id = coalesce(EXCLUDED.jira_id, trigger_items.jira_id),
			jira_key = coalesce(EXCLUDED.jira_key, trigger_items.jira_key), updated_at = now()`,
		it.OriginKey, it.Trigger, it.Item, it.JiraID, it.JiraKey)
	if err != nil {
		return unavailable("save trigger item", err)
	}
	return nil
}
