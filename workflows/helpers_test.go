package workflows_test

import (
	"errors"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/sfjira/sfjira/workflows"
)

// isContinueAsNew reports whether err is a continue-as-new of Backfill and decodes its input.
func isContinueAsNew(err error, out **workflows.BackfillInput) bool {
	var can *workflow.ContinueAsNewError
	if !errors.As(err, &can) || can.Input == nil {
		return false
	}
	var in workflows.BackfillInput
	if e := converter.GetDefaultDataConverter().FromPayloads(can.Input, &in); e != nil {
		return false
	}
	*out = &in
	return true
}
