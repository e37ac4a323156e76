package schema

import "strings"

// redactCredentials hides the password (or token) of a URL's user
// information before the URL is quoted in a message: messages are printed,
// logged and posted as CI annotations, and a careless
// https://elastic:changeme@es:9200 must not travel with them. A user
// name before a colon is kept ("https://elastic:***@es:9200"); user
// information without a colon may be a token and is hidden whole
// ("https://***@es:9200"). It works on text that does not parse as a URL
// too, since that is when a message quotes it.
func redactCredentials(s string) string {
	rest := s
	prefix := ""
	if i := strings.Index(s, "://"); i >= 0 {
		prefix, rest = s[:i+3], s[i+3:]
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	at := strings.LastIndexByte(authority, '@')
	if at < 0 {
		return s
	}
	user := "***"
	if name, _, ok := strings.Cut(authority[:at], ":"); ok {
		user = name + ":***"
	}
	return prefix + user + rest[at:]
}
