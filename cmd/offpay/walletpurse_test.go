package main

import (
	"reflect"
	"testing"
)

func init() {
	documentedFlags["wallet purses"] = []string{"dir", "json"}
}

func TestPurseFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		i, n int
		v    string
	}{
		{[]string{"wallet", "pay", "--dir", "W", "--purse", "chf"}, 4, 2, "chf"},
		{[]string{"wallet", "pay", "-purse=chf", "--dir", "W"}, 2, 1, "chf"},
		{[]string{"wallet", "pay", "--purse-x", "chf"}, -1, 0, ""},
		{[]string{"wallet", "pay", "--", "--purse", "chf"}, -1, 0, ""},
		{[]string{"wallet", "pay", "purse", "chf"}, -1, 0, ""},
	} {
		i, n, v, err := flagAt(c.args, "purse")
		if err != nil || i != c.i || n != c.n || v != c.v {
			t.Errorf("%v: %d %d %q %v", c.args, i, n, v, err)
		}
	}
	if _, _, _, err := flagAt([]string{"wallet", "pay", "--purse"}, "purse"); err == nil {
		t.Error("--purse without a value")
	}
	got := withFlag([]string{"wallet", "pay", "--dir=W", "--in", "r"}, "dir", "W/purses/chf")
	if want := []string{"wallet", "pay", "--dir", "W/purses/chf", "--in", "r"}; !reflect.DeepEqual(got, want) {
		t.Errorf("%v", got)
	}
}
