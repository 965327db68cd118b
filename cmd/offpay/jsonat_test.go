package main

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// jsonat VAR FILE PATH: set VAR to the string at PATH of the JSON in FILE,
// a dot-separated list of object keys and array indexes (0.sale: the
// field sale of the first element).
func cmdJSONAt(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: jsonat VAR FILE PATH")
	}
	var v any
	ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[1])), &v))
	for _, k := range strings.Split(args[2], ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(x) {
				ts.Fatalf("%s: no element %s", args[1], k)
			}
			v = x[i]
		default:
			ts.Fatalf("%s: nothing at %s", args[1], k)
		}
	}
	s, ok := v.(string)
	if !ok {
		ts.Fatalf("%s has no string at %s", args[1], args[2])
	}
	ts.Setenv(args[0], s)
}
