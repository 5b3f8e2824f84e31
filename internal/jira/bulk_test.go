package jira

import (
	"context"
	"fmt"
	"strconv"
	"testing"
)

func TestBulkTransition(t *testing.T) {
	c, srv, _ := setup(t)
	ctx := context.Background()
	var in []IssueInput
	for i := 0; i < 1205; i++ {
		in = append(in, epic(fmt.Sprintf("Opp %d", i), ""))
	}
	created, err := c.BulkCreate(ctx, in)
	if err != nil || len(created.Errors) > 0 {
		t.Fatalf("create: %v %+v", err, created.Errors)
	}
	var ids []string
	for _, is := range created.Issues {
		ids = append(ids, is.ID)
	}
	// 1,203 issues start progress; one of them is asked twice (the second fails: it is no longer
	// in To Do), one unknown issue is counted as inaccessible.
	res, err := c.BulkTransition(ctx, []BulkTransitionInput{
		{SelectedIssueIdsOrKeys: ids[:1203], TransitionID: "11"},
		{SelectedIssueIdsOrKeys: []string{ids[0], "SFJ-99999"}, TransitionID: "11"},
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.ProcessedAccessibleIssues) != 1203 || len(res.FailedAccessibleIssues) != 1 || res.InvalidOrInaccessibleIssueCount != 1 || res.TotalIssueCount != 1205 {
		t.Fatalf("progress: processed %d failed %v invalid %d total %d", len(res.ProcessedAccessibleIssues), res.FailedAccessibleIssues, res.InvalidOrInaccessibleIssueCount, res.TotalIssueCount)
	}
	if _, ok := res.FailedAccessibleIssues[ids[0]]; !ok {
		t.Fatalf("failed: %v", res.FailedAccessibleIssues)
	}
	st := srv.Stats().Endpoints
	if st["POST /rest/api/3/bulk/issues/transition"]["201"] != 2 || st["GET /rest/api/3/bulk/queue/{taskId}"]["200"] != 2 {
		t.Fatalf("calls: %v", st)
	}
	// Into Done through a transition with a resolution screen: the resolution defaults to Done.
	if _, err := c.BulkTransition(ctx, []BulkTransitionInput{{SelectedIssueIdsOrKeys: ids[5:7], TransitionID: "41"}}, 0); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetIssue(ctx, ids[5], []string{"status", "resolution"}, nil)
	if err != nil || got.StatusName() != "Done" || got.ResolutionName() != "Done" {
		t.Fatalf("after bulk Done: %v %s %s", err, got.StatusName(), got.ResolutionName())
	}
	got, _ = c.GetIssue(ctx, ids[1204], []string{"status"}, nil)
	if got.StatusName() != "To Do" {
		t.Fatalf("untouched issue moved: %s", got.StatusName())
	}
	// Bad input is a 400 with Jira's bulk error body.
	if _, err := c.SubmitBulkTransition(ctx, []BulkTransitionInput{{SelectedIssueIdsOrKeys: []string{"not a key"}, TransitionID: "11"}}); err == nil {
		t.Fatal("invalid key accepted")
	}
	if _, err := c.BulkProgress(ctx, strconv.Itoa(1)); err == nil {
		t.Fatal("unknown task accepted")
	}
}
