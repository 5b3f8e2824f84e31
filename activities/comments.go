package activities

import (
	"context"
	"fmt"

	"github.com/sfjira/sfjira/mappings"
)

// maxFeedItemBody is Chatter's limit on a feed item body.
const maxFeedItemBody = 10000

// MirrorComments posts the Jira comments of a pair that are not yet in Salesforce as Chatter
// feed items on the record, once each (remembered in PostgreSQL). Chatter posts are not copied
// back to Jira, so a mirrored comment can never come back as a new one.
func (a *Activities) MirrorComments(ctx context.Context, in MirrorCommentsInput) (*MirrorCommentsResult, error) {
	done, err := a.Store.MirroredComments(ctx, in.OriginKey)
	if err != nil {
		return nil, classify(err)
	}
	comments, err := a.Jira.Comments(ctx, in.IssueID)
	if err != nil {
		return nil, classify(err)
	}
	res := &MirrorCommentsResult{}
	for _, c := range comments {
		if done[c.ID] {
			continue
		}
		text := mappings.ADFToText(c.Body)
		if isActivityComment(text) {
			continue // written from a Salesforce activity: already in Salesforce
		}
		author := c.Author.DisplayName
		if author == "" {
			author = "someone"
		}
		body := fmt.Sprintf("Jira comment by %s:\n%s", author, text)
		if r := []rune(body); len(r) > maxFeedItemBody {
			body = string(r[:maxFeedItemBody-1]) + "…"
		}
		id, err := a.SF.PostFeedItem(ctx, in.SfID, body)
		if err != nil {
			return nil, classify(err)
		}
		if err := a.Store.RecordMirroredComment(ctx, in.OriginKey, c.ID, id); err != nil {
			return nil, classify(err)
		}
		res.Posted++
	}
	return res, nil
}
