package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
)

// readJSON reads the body of an administrator request into v, a pointer
// to a struct of string, bool and int64 fields with json tags, strictly:
// encoding/json alone would read two different requests as one, or one
// request as another.
//
//   - The Content-Type is application/json (a charset parameter, if any,
//     is utf-8), else 415.
//   - The body is at most maxAdminBody bytes (413), valid UTF-8 (json
//     would turn each invalid byte into U+FFFD, so that two different bank
//     references collapse into one), and one JSON object with nothing
//     after it.
//   - Each member name is a field's name exactly (json matches names in
//     any case) and appears once (json keeps the last of two).
//   - Each value has the field's JSON type (never null), integers are
//     written as integers and fit int64, and strings hold no escaped lone
//     surrogate (json turns each into U+FFFD) and no control characters
//     (ledger.CheckText).
//
// Every refusal is a 400 invalid error that says in user words what the
// field must be.
func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if err := jsonMedia(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAdminBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errorf(CodeTooLarge, "body above %d bytes", maxAdminBody)
		}
		return errorf(offpay.EINVALID, "reading the body failed")
	}
	return decodeStrict(body, v)
}

// jsonMedia checks the Content-Type of a JSON request body.
func jsonMedia(ct string) error {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return errorf(CodeUnsupportedMedia, "the body must be application/json")
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return errorf(CodeUnsupportedMedia, "the body must be application/json in UTF-8 (parameter %s=%s)", k, v)
		}
	}
	return nil
}

// decodeStrict is readJSON's decoding of body into v.
func decodeStrict(body []byte, v any) error {
	if !utf8.Valid(body) {
		return errorf(offpay.EINVALID, "the body is not valid UTF-8")
	}
	rv := reflect.ValueOf(v).Elem()
	fields := jsonFields(rv.Type())
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return errorf(offpay.EINVALID, "the body must be one JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return errorf(offpay.EINVALID, "the body is not valid JSON")
		}
		name := tok.(string) // inside an object, json gives member names as strings
		idx, ok := fields[name]
		if !ok {
			for known := range fields {
				if strings.EqualFold(known, name) {
					return errorf(offpay.EINVALID, "unknown field %q: field names are case-sensitive (%q)", name, known)
				}
			}
			return errorf(offpay.EINVALID, "unknown field %q (fields: %s)", name, fieldList(fields))
		}
		if seen[name] {
			return errorf(offpay.EINVALID, "field %q appears twice", name)
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return errorf(offpay.EINVALID, "the body is not valid JSON")
		}
		if err := setField(rv.Field(idx), name, raw); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return errorf(offpay.EINVALID, "the body is not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errorf(offpay.EINVALID, "the body has data after the JSON object")
	}
	return nil
}

// jsonFields maps the JSON names of t's fields to their indexes.
func jsonFields(t reflect.Type) map[string]int {
	m := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.IsExported() && name != "" && name != "-" {
			m[name] = i
		}
	}
	return m
}

func fieldList(fields map[string]int) string {
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, strconv.Quote(n))
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// setField decodes raw, one JSON value, into f.
func setField(f reflect.Value, name string, raw json.RawMessage) error {
	switch f.Kind() {
	case reflect.String:
		if len(raw) == 0 || raw[0] != '"' {
			return errorf(offpay.EINVALID, "%s must be a string", name)
		}
		if hasLoneSurrogate(raw) {
			return errorf(offpay.EINVALID, "%s holds an escaped lone UTF-16 surrogate, which is no character", name)
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return errorf(offpay.EINVALID, "%s must be a string", name)
		}
		if err := ledger.CheckText(name, s); err != nil {
			return err
		}
		f.SetString(s)
	case reflect.Bool:
		switch string(raw) {
		case "true", "false":
			f.SetBool(string(raw) == "true")
		default:
			return errorf(offpay.EINVALID, "%s must be true or false", name)
		}
	case reflect.Int64:
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || !isJSONInteger(raw) {
			return errorf(offpay.EINVALID, "%s must be a whole number from %d to %d, written without a fraction or exponent", name, int64(math.MinInt64), int64(math.MaxInt64))
		}
		f.SetInt(n)
	default:
		return errorf(offpay.EINTERNAL, "field %s of an unsupported kind %v", name, f.Kind())
	}
	return nil
}

// isJSONInteger reports whether raw is a JSON integer: an optional minus,
// then 0 or a digit string not starting with 0.
func isJSONInteger(raw []byte) bool {
	d := raw
	if len(d) > 0 && d[0] == '-' {
		d = d[1:]
	}
	if len(d) == 0 || (d[0] == '0' && len(d) > 1) {
		return false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// hasLoneSurrogate reports whether a JSON string literal holds a \u escape
// of a UTF-16 surrogate that is not part of a high-low pair.
func hasLoneSurrogate(lit []byte) bool {
	for i := 0; i < len(lit); i++ {
		if lit[i] != '\\' {
			continue
		}
		i++
		if i >= len(lit) || lit[i] != 'u' {
			continue
		}
		u, ok := hex4(lit, i+1)
		if !ok {
			continue
		}
		i += 4
		switch {
		case u >= 0xdc00 && u <= 0xdfff:
			return true
		case u >= 0xd800 && u <= 0xdbff:
			if i+2 >= len(lit) || lit[i+1] != '\\' || lit[i+2] != 'u' {
				return true
			}
			lo, ok := hex4(lit, i+3)
			if !ok || lo < 0xdc00 || lo > 0xdfff {
				return true
			}
			i += 6
		}
	}
	return false
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[at:at+4]), 16, 16)
	return rune(n), err == nil
}
