package render

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
)

// maxSequence bounds the lists until, untilStep and seq make and the
// strings repeat and the rand* functions make, which a template could
// otherwise ask to be of any size.
const maxSequence = 1 << 20

// helmOwnFuncs are the functions Helm defines itself or replaces in
// sprig's set: they are left as Helm has them. env and expandenv (the
// process's environment) and getHostByName (DNS) are among them, so that
// wrapping sprig's set cannot bring them back.
var helmOwnFuncs = map[string]bool{
	"env": true, "expandenv": true, "getHostByName": true,
	"toToml": true, "fromToml": true, "toYaml": true, "mustToYaml": true, "toYamlPretty": true,
	"fromYaml": true, "fromYamlArray": true, "toJson": true, "mustToJson": true,
	"fromJson": true, "fromJsonArray": true,
	"include": true, "tpl": true, "required": true, "lookup": true, "fail": true,
}

// templateFuncs are sprig's functions as Helm offers them, each checking
// ctx before it runs: a template that loops calling any function stops
// at its next call once the render's time is up. The functions that
// allocate by a count of the template's choosing are bounded.
func templateFuncs(ctx context.Context) template.FuncMap {
	out := template.FuncMap{}
	for name, fn := range sprig.TxtFuncMap() {
		if helmOwnFuncs[name] {
			continue
		}
		out[name] = guard(ctx, name, fn)
	}
	bounded := template.FuncMap{
		"until": func(n int) ([]int, error) {
			if err := checkCount("until", abs64(n)); err != nil {
				return nil, err
			}
			return sprig.TxtFuncMap()["until"].(func(int) []int)(n), nil
		},
		"untilStep": func(start, stop, step int) ([]int, error) {
			if step != 0 {
				if err := checkCount("untilStep", abs64((stop-start)/step)); err != nil {
					return nil, err
				}
			}
			return sprig.TxtFuncMap()["untilStep"].(func(int, int, int) []int)(start, stop, step), nil
		},
		"seq": func(params ...int) (string, error) {
			if len(params) > 0 {
				first, last, step := 1, params[len(params)-1], 1
				if len(params) > 1 {
					first = params[0]
				}
				if len(params) == 3 && params[1] != 0 {
					step = params[1]
				}
				if err := checkCount("seq", abs64((last-first)/step)); err != nil {
					return "", err
				}
			}
			return sprig.TxtFuncMap()["seq"].(func(...int) string)(params...), nil
		},
		"repeat": func(count int, s string) (string, error) {
			if err := checkCount("repeat", int64(count)*int64(max(len(s), 1))); err != nil {
				return "", err
			}
			return strings.Repeat(s, max(count, 0)), nil
		},
	}
	for _, name := range []string{"randAlphaNum", "randAlpha", "randAscii", "randNumeric"} {
		fn := sprig.TxtFuncMap()[name].(func(int) string)
		bounded[name] = func(n int) (string, error) {
			if err := checkCount(name, int64(n)); err != nil {
				return "", err
			}
			return fn(n), nil
		}
	}
	randBytes := sprig.TxtFuncMap()["randBytes"].(func(int) (string, error))
	bounded["randBytes"] = func(n int) (string, error) {
		if err := checkCount("randBytes", int64(n)); err != nil {
			return "", err
		}
		return randBytes(n)
	}
	for name, fn := range bounded {
		out[name] = guard(ctx, name, fn)
	}
	return out
}

func abs64(n int) int64 {
	if n < 0 {
		return -int64(n)
	}
	return int64(n)
}

func checkCount(name string, n int64) error {
	if n > maxSequence {
		return fmt.Errorf("%w: %s of %d elements: the limit is %d", ErrTooLarge, name, n, maxSequence)
	}
	return nil
}

// guard wraps fn, a template function, so that it panics once ctx is
// done: text/template turns a function's panic into an error of the
// template's execution, which stops it.
func guard(ctx context.Context, name string, fn any) any {
	v := reflect.ValueOf(fn)
	t := v.Type()
	if t.Kind() != reflect.Func {
		return fn
	}
	return reflect.MakeFunc(t, func(args []reflect.Value) []reflect.Value {
		if ctx.Err() != nil {
			panic(fmt.Errorf("%s: %w", name, context.Cause(ctx)))
		}
		if t.IsVariadic() {
			return v.CallSlice(args)
		}
		return v.Call(args)
	}).Interface()
}
