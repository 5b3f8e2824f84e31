package mappings

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// toFloat accepts the numeric shapes a decoded record can hold.
func toFloat(v any) (float64, error) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case json.Number:
		var err error
		if f, err = x.Float64(); err != nil {
			return 0, fmt.Errorf("not a number: %q", x.String())
		}
	case string:
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSpace(x), 64); err != nil {
			return 0, fmt.Errorf("not a number: %q", x)
		}
	default:
		return 0, fmt.Errorf("not a number: %T", v)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("not a finite number: %v", f)
	}
	return f, nil
}

// RoundDecimal rounds f half away from zero to precision decimals on its shortest decimal
// representation (so 1.005 → "1.01", as a person expects), and returns the canonical
// string with exactly precision decimals plus the float wire value. precision
// NoPrecision (<0) leaves the value unrounded.
func RoundDecimal(f float64, precision int) (string, float64) {
	if f == 0 {
		f = 0 // drop negative zero
	}
	if precision < 0 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		return s, f
	}
	s := strconv.FormatFloat(math.Abs(f), 'f', -1, 64)
	neg := f < 0
	intPart, frac, _ := strings.Cut(s, ".")
	if len(frac) > precision {
		roundUp := frac[precision] >= '5'
		digits := []byte(intPart + frac[:precision])
		if roundUp {
			i := len(digits) - 1
			for ; i >= 0; i-- {
				if digits[i] == '9' {
					digits[i] = '0'
					continue
				}
				digits[i]++
				break
			}
			if i < 0 {
				digits = append([]byte{'1'}, digits...)
			}
		}
		intPart = string(digits[:len(digits)-precision])
		frac = string(digits[len(digits)-precision:])
	} else {
		frac += strings.Repeat("0", precision-len(frac))
	}
	out := intPart
	if precision > 0 {
		out += "." + frac
	}
	if neg && strings.Trim(out, "0.") != "" {
		out = "-" + out
	}
	v, _ := strconv.ParseFloat(out, 64)
	return out, v
}
