package analyzer

import (
	"strings"

	"github.com/go-enry/go-enry/v2"

	"github.com/datainsight/datainsight/ipython"
)

// Cell magics that become shell steps rather than cell-magic warnings.
var shellCellMagics = map[string]bool{"bash": true, "sh": true, "script": true}

// Languages of cell magics that go-enry's alias table does not know or
// would name differently.
var cellMagicLangs = map[string]string{
	"writefile": "Text",
	"file":      "Text",
	"script":    "Shell",
	"python2":   "Python",
	"pypy":      "Python",
	"js":        "JavaScript",
	"latex":     "TeX",
}

// cellLanguage returns the language of a cell (as go-enry names it) and its
// %% cell magic, if any, with that magic's arguments. The kernel decides
// the language unless a cell magic says otherwise; magics are IPython's, so
// they count only under a Python kernel. Content is never classified: on
// short cells go-enry guesses poorly, and the kernel and magic are
// authoritative.
func cellLanguage(src, nbLang string) (lang, magic, args string) {
	lang = kernelLanguage(nbLang)
	if lang != "Python" {
		return lang, "", ""
	}
	m, ok := findCellMagic(src)
	if !ok {
		return lang, "", ""
	}
	return magicLanguage(m.Name, m.Args, lang), m.Name, m.Args
}

// kernelLanguage maps a kernelspec language ("python", "R", "") to
// go-enry's name; an unknown one is returned as given.
func kernelLanguage(nbLang string) string {
	nbLang = strings.TrimSpace(nbLang)
	if nbLang == "" {
		return "Python"
	}
	if l, ok := enry.GetLanguageByAlias(nbLang); ok {
		return l
	}
	if strings.HasPrefix(strings.ToLower(nbLang), "python") || strings.HasPrefix(strings.ToLower(nbLang), "ipython") {
		return "Python"
	}
	return nbLang
}

func magicLanguage(name, args, kernel string) string {
	if ipython.PythonBody(name) {
		return kernel
	}
	if name == "script" {
		// %%script INTERPRETER: the interpreter names the language.
		if f := strings.Fields(args); len(f) > 0 {
			interp := f[0]
			if i := strings.LastIndexByte(interp, '/'); i >= 0 {
				interp = interp[i+1:]
			}
			if l, ok := enry.GetLanguageByAlias(interp); ok {
				return l
			}
		}
	}
	if l, ok := cellMagicLangs[name]; ok {
		return l
	}
	if l, ok := enry.GetLanguageByAlias(name); ok {
		return l
	}
	return "Text"
}
