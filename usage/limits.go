// This file reads the monthly limit of each counter from configuration (USAGE_LIMITS).

package usage

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Limits are the monthly limit of each usage counter, by name. They are the server's
// configuration (USAGE_LIMITS), never the client's.
type Limits map[string]int

// DefaultLimits is the free tier of the seed: 3 resumes and 10 AI reviews a month.
const DefaultLimits = "resumes=3,reviews=10"

var counterName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// ParseLimits reads "name=limit,name=limit". Names are lower-case identifiers; limits
// are whole numbers >= 0.
func ParseLimits(s string) (Limits, error) {
	l := Limits{}
	for _, part := range strings.Split(s, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(strings.TrimSpace(value))
		name = strings.TrimSpace(name)
		_, dup := l[name]
		switch {
		case !ok || !counterName.MatchString(name):
			return nil, fmt.Errorf("usage limit %q: want name=limit with a lower-case name", part)
		case err != nil || n < 0:
			return nil, fmt.Errorf("usage limit %q: the limit must be a whole number >= 0", part)
		case dup:
			return nil, fmt.Errorf("usage limit %q: %s given twice", part, name)
		}
		l[name] = n
	}
	return l, nil
}

// Names returns the counter names, sorted.
func (l Limits) Names() []string {
	names := make([]string, 0, len(l))
	for n := range l {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
