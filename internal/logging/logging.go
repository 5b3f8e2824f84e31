// Package logging builds the zap loggers sfjira uses everywhere (JSON in production, console for a
// person at a terminal) and adapts them to the Temporal SDK's logger interface.
package logging

import (
	"fmt"
	"os"
	"strings"

	"go.temporal.io/sdk/log"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// New returns a logger writing to stderr in the given format ("json" or "console") and level.
// Field names follow one schema: ts, level, msg, then workflow_id, run_id, pair, sf_id, jira_key,
// direction, code where they apply.
func New(format, level string) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("log level %q: %w (fix: use debug, info, warn or error)", level, err)
	}
	encCfg := zap.NewProductionEncoderConfig()
	encCfg.TimeKey = "ts"
	encCfg.EncodeTime = zapcore.ISO8601TimeEncoder
	var enc zapcore.Encoder
	switch format {
	case "json", "":
		enc = zapcore.NewJSONEncoder(encCfg)
	case "console":
		encCfg.EncodeLevel = zapcore.CapitalColorLevelEncoder
		encCfg.EncodeTime = zapcore.TimeEncoderOfLayout("15:04:05.000")
		enc = zapcore.NewConsoleEncoder(encCfg)
	default:
		return nil, fmt.Errorf("log format %q (fix: use json or console)", format)
	}
	return zap.New(NewCore(enc, zapcore.Lock(os.Stderr), lvl), zap.AddCaller()), nil
}

// NewCore is the core behind New: output passes through the secret scrubber (redact.go).
func NewCore(enc zapcore.Encoder, out zapcore.WriteSyncer, lvl zapcore.LevelEnabler) zapcore.Core {
	return zapcore.NewCore(redactingEncoder{enc}, out, lvl)
}

// NewJSON is New's JSON logger writing to any output (tests read it back).
func NewJSON(out zapcore.WriteSyncer, lvl zapcore.LevelEnabler) *zap.Logger {
	encCfg := zap.NewProductionEncoderConfig()
	encCfg.TimeKey = "ts"
	encCfg.EncodeTime = zapcore.ISO8601TimeEncoder
	return zap.New(NewCore(zapcore.NewJSONEncoder(encCfg), out, lvl), zap.AddCaller())
}

// TemporalAdapter lets the Temporal SDK log through zap with the same schema.
type TemporalAdapter struct{ z *zap.Logger }

// NewTemporal wraps a zap logger for client.Options.Logger and worker logging.
func NewTemporal(z *zap.Logger) *TemporalAdapter {
	return &TemporalAdapter{z: z.WithOptions(zap.AddCallerSkip(1))}
}

func fields(keyvals []interface{}) []zap.Field {
	out := make([]zap.Field, 0, len(keyvals)/2)
	for i := 0; i < len(keyvals); i += 2 {
		key, ok := keyvals[i].(string)
		if !ok {
			key = fmt.Sprint(keyvals[i])
		}
		var val interface{} = "(missing)"
		if i+1 < len(keyvals) {
			val = keyvals[i+1]
		}
		out = append(out, zap.Any(snake(key), val))
	}
	return out
}

// snake maps the SDK's field names (WorkflowID, RunID, …) onto the log schema.
func snake(k string) string {
	switch k {
	case "WorkflowID":
		return "workflow_id"
	case "RunID":
		return "run_id"
	case "WorkflowType":
		return "workflow_type"
	case "ActivityType":
		return "activity_type"
	case "ActivityID":
		return "activity_id"
	case "TaskQueue":
		return "task_queue"
	case "Namespace":
		return "namespace"
	case "Attempt":
		return "attempt"
	case "Error":
		return "error"
	}
	return camelToSnake(k)
}

// camelToSnake turns the SDK's and workflows' CamelCase keys (SfID, JiraKey, Failures) into the
// schema's snake_case (sf_id, jira_key, failures).
func camelToSnake(k string) string {
	var b strings.Builder
	rs := []rune(k)
	for i, r := range rs {
		upper := r >= 'A' && r <= 'Z'
		if upper && i > 0 {
			prevLower := rs[i-1] >= 'a' && rs[i-1] <= 'z' || rs[i-1] >= '0' && rs[i-1] <= '9'
			nextLower := i+1 < len(rs) && rs[i+1] >= 'a' && rs[i+1] <= 'z'
			prevUpper := rs[i-1] >= 'A' && rs[i-1] <= 'Z'
			if prevLower || (prevUpper && nextLower) {
				b.WriteByte('_')
			}
		}
		if upper {
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Debug logs at debug level.
func (a *TemporalAdapter) Debug(msg string, keyvals ...interface{}) {
	a.z.Debug(msg, fields(keyvals)...)
}

// Info logs at info level.
func (a *TemporalAdapter) Info(msg string, keyvals ...interface{}) { a.z.Info(msg, fields(keyvals)...) }

// Warn logs at warn level.
func (a *TemporalAdapter) Warn(msg string, keyvals ...interface{}) { a.z.Warn(msg, fields(keyvals)...) }

// Error logs at error level.
func (a *TemporalAdapter) Error(msg string, keyvals ...interface{}) {
	a.z.Error(msg, fields(keyvals)...)
}

// With returns a logger carrying the given fields.
func (a *TemporalAdapter) With(keyvals ...interface{}) log.Logger {
	return &TemporalAdapter{z: a.z.With(fields(keyvals)...)}
}

var _ log.WithLogger = (*TemporalAdapter)(nil)
