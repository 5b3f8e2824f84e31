package temporalconn

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// QueueInfo is what DescribeTaskQueue says about one task queue and type: the approximate backlog
// and the workers polling it.
type QueueInfo struct {
	TaskQueue  string    `json:"task_queue"`
	Type       string    `json:"type"` // workflow or activity
	Backlog    int64     `json:"backlog"`
	BacklogAge float64   `json:"backlog_age_seconds"`
	Pollers    []string  `json:"pollers"` // worker identities seen polling recently
	LastPoll   time.Time `json:"last_poll,omitzero"`
}

// DescribeQueues asks Temporal for the backlog and pollers of each task queue, workflow and
// activity tasks separately. It is what the status command and the backlog gauge read.
func DescribeQueues(ctx context.Context, c client.Client, namespace string, queues []string) ([]QueueInfo, error) {
	var out []QueueInfo
	for _, q := range queues {
		for _, t := range []enumspb.TaskQueueType{enumspb.TASK_QUEUE_TYPE_WORKFLOW, enumspb.TASK_QUEUE_TYPE_ACTIVITY} {
			resp, err := c.WorkflowService().DescribeTaskQueue(ctx, &workflowservice.DescribeTaskQueueRequest{
				Namespace: namespace, TaskQueue: &taskqueuepb.TaskQueue{Name: q, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
				TaskQueueType: t, ReportStats: true,
			})
			if err != nil {
				return out, fmt.Errorf("describe task queue %s: %w", q, err)
			}
			info := QueueInfo{TaskQueue: q, Type: "workflow"}
			if t == enumspb.TASK_QUEUE_TYPE_ACTIVITY {
				info.Type = "activity"
			}
			if st := resp.GetStats(); st != nil {
				info.Backlog = st.GetApproximateBacklogCount()
				info.BacklogAge = st.GetApproximateBacklogAge().AsDuration().Seconds()
			}
			for _, p := range resp.GetPollers() {
				info.Pollers = append(info.Pollers, p.GetIdentity())
				if lt := p.GetLastAccessTime().AsTime(); lt.After(info.LastPoll) {
					info.LastPoll = lt
				}
			}
			out = append(out, info)
		}
	}
	return out, nil
}
