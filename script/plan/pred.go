package plan

import (
	"sort"
	"strconv"
	"strings"

	"github.com/tracer-dev/tracer/script"
)

// fieldUse is one args->NAME in a probe.
type fieldUse struct {
	Name string
	Pos  script.Pos
	join bool // inside join(): the field is an argv array
}

// usage is what one probe's predicate and actions read.
type usage struct {
	fields    []fieldUse // every args->NAME
	strFields []fieldUse // args->NAME inside str() or join()
	args      []int      // argN read
	strArgs   []int      // str(argN)
	retval    bool
	strRetval bool // str(retval)
	calls     []*script.Call
	stacks    []*script.Builtin
}

// scan walks a probe's predicate and actions.
func scan(p *script.Probe) *usage {
	u := &usage{}
	argSeen, strSeen := map[int]bool{}, map[int]bool{}
	var expr func(e script.Expr)
	var stmt func(s script.Stmt)
	expr = func(e script.Expr) {
		switch e := e.(type) {
		case *script.Builtin:
			switch {
			case e.Name == "retval":
				u.retval = true
			case e.Name == "kstack":
				u.stacks = append(u.stacks, e)
			case strings.HasPrefix(e.Name, "arg") && e.Name != "args":
				if n, err := strconv.Atoi(e.Name[3:]); err == nil && !argSeen[n] {
					argSeen[n] = true
					u.args = append(u.args, n)
				}
			}
		case *script.Field:
			if isArgs(e.X) {
				u.fields = append(u.fields, fieldUse{Name: e.Name, Pos: e.Pos})
				return
			}
			expr(e.X)
		case *script.Call:
			u.calls = append(u.calls, e)
			if (e.Name == "str" || e.Name == "join") && len(e.Args) > 0 {
				if f, ok := e.Args[0].(*script.Field); ok && isArgs(f.X) {
					u.strFields = append(u.strFields, fieldUse{Name: f.Name, Pos: f.Pos, join: e.Name == "join"})
				}
				if b, ok := e.Args[0].(*script.Builtin); ok && e.Name == "str" && b.Name == "retval" {
					u.strRetval = true
				}
				if b, ok := e.Args[0].(*script.Builtin); ok && e.Name == "str" && strings.HasPrefix(b.Name, "arg") && b.Name != "args" {
					if n, err := strconv.Atoi(b.Name[3:]); err == nil && !strSeen[n] {
						strSeen[n] = true
						u.strArgs = append(u.strArgs, n)
					}
				}
			}
			for _, a := range e.Args {
				expr(a)
			}
		case *script.MapRef:
			for _, k := range e.Keys {
				expr(k)
			}
		case *script.Binary:
			expr(e.X)
			expr(e.Y)
		case *script.Unary:
			expr(e.X)
		case *script.Ternary:
			expr(e.Cond)
			expr(e.Then)
			expr(e.Else)
		case *script.Index:
			expr(e.X)
			expr(e.Index)
		case *script.Cast:
			expr(e.X)
		case *script.Tuple:
			for _, x := range e.Elems {
				expr(x)
			}
		}
	}
	stmt = func(s script.Stmt) {
		switch s := s.(type) {
		case *script.ExprStmt:
			expr(s.X)
		case *script.AssignStmt:
			expr(s.LHS)
			expr(s.RHS)
		case *script.IfStmt:
			expr(s.Cond)
			stmt(s.Then)
			if s.Else != nil {
				stmt(s.Else)
			}
		case *script.UnrollStmt:
			stmt(s.Body)
		case *script.WhileStmt:
			expr(s.Cond)
			stmt(s.Body)
		case *script.ReturnStmt:
			if s.Value != nil {
				expr(s.Value)
			}
		case *script.Block:
			for _, x := range s.Stmts {
				stmt(x)
			}
		}
	}
	if p.Pred != nil {
		expr(p.Pred)
	}
	stmt(p.Body)
	sort.Ints(u.args)
	sort.Ints(u.strArgs)
	return u
}

func isArgs(e script.Expr) bool {
	b, ok := e.(*script.Builtin)
	return ok && b.Name == "args"
}

// splitPred splits a predicate into the conjuncts the kernel's filter can
// express for every event of the probe and the rest, which runs in user
// space. The kernel's part is exact (it drops events that fail it), so
// the runtime does not evaluate it again.
func splitPred(pred script.Expr, pp *Probe) (string, script.Expr) {
	var conj []script.Expr
	var flatten func(e script.Expr)
	flatten = func(e script.Expr) {
		if b, ok := e.(*script.Binary); ok && b.Op == "&&" {
			flatten(b.X)
			flatten(b.Y)
			return
		}
		conj = append(conj, e)
	}
	flatten(pred)
	var kernel []string
	var user script.Expr
	for _, c := range conj {
		if f, ok := filterOf(c, pp, true); ok {
			kernel = append(kernel, f)
			continue
		}
		if user == nil {
			user = c
		} else {
			user = &script.Binary{Pos: c.Position(), Op: "&&", X: user, Y: c}
		}
	}
	if len(kernel) == 1 {
		return kernel[0], user
	}
	for i, k := range kernel {
		kernel[i] = "(" + k + ")"
	}
	return strings.Join(kernel, " && "), user
}

// filterOf renders e in the kernel's filter syntax, if it can be. top is
// false under ! || and &&, where only comparisons are allowed.
func filterOf(e script.Expr, pp *Probe, top bool) (string, bool) {
	switch e := e.(type) {
	case *script.Binary:
		switch e.Op {
		case "&&", "||":
			x, ok1 := filterOf(e.X, pp, false)
			y, ok2 := filterOf(e.Y, pp, false)
			if !ok1 || !ok2 {
				return "", false
			}
			return "(" + x + ") " + e.Op + " (" + y + ")", true
		case "==", "!=", "<", "<=", ">", ">=", "&":
			if f, str, ok := kernelField(e.X, pp); ok {
				if c, ok := constant(e.Y, str, e.Op); ok {
					return f + " " + e.Op + " " + c, true
				}
			}
			if f, str, ok := kernelField(e.Y, pp); ok && e.Op != "&" {
				if c, ok := constant(e.X, str, e.Op); ok {
					return f + " " + flip[e.Op] + " " + c, true
				}
			}
		}
	case *script.Unary:
		if e.Op == "!" {
			if x, ok := filterOf(e.X, pp, false); ok {
				return "!(" + x + ")", true
			}
		}
	default:
		if f, str, ok := kernelField(e, pp); ok && !str {
			return f + " != 0", true
		}
	}
	return "", false
}

var flip = map[string]string{"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}

// kernelField names the filter field e reads, on every event of the
// probe, and whether it is a string.
func kernelField(e script.Expr, pp *Probe) (name string, str bool, ok bool) {
	if len(pp.Events) == 0 {
		return "", false, false
	}
	switch e := e.(type) {
	case *script.Field:
		if !isArgs(e.X) || pp.Kind != script.KindTracepoint {
			return "", false, false
		}
		for i, ev := range pp.Events {
			j := fieldIndex(ev.Fields, e.Name)
			if j < 0 || strings.HasPrefix(ev.Spec, "eprobe:") {
				return "", false, false
			}
			s := ev.Fields[j].IsString
			if i > 0 && s != str {
				return "", false, false
			}
			str = s
		}
		return e.Name, str, true
	case *script.Builtin:
		switch {
		case e.Name == "comm":
			return "comm", true, true
		case e.Name == "tid":
			return "common_pid", false, true
		case e.Name == "retval" && (pp.Kind == script.KindKretprobe || pp.Kind == script.KindUretprobe):
			return "retval", false, true
		case strings.HasPrefix(e.Name, "arg") && e.Name != "args" && pp.Kind != script.KindTracepoint:
			return e.Name, false, true
		}
	}
	return "", false, false
}

// constant renders a literal the filter can compare with: an integer for
// an integer field, a quoted string for == and != on a string field.
func constant(e script.Expr, str bool, op string) (string, bool) {
	switch e := e.(type) {
	case *script.IntLit:
		if str {
			return "", false
		}
		return strconv.FormatUint(e.Value, 10), true
	case *script.Unary:
		if lit, ok := e.X.(*script.IntLit); ok && e.Op == "-" && !str && lit.Value <= 1<<63 {
			return "-" + strconv.FormatUint(lit.Value, 10), true
		}
	case *script.StrLit:
		// The kernel's string compare is a glob with * and ?; bpftrace's is
		// exact, so only plain strings go to the kernel.
		if !str || (op != "==" && op != "!=") || strings.ContainsAny(e.Value, "*?[]\"\\") {
			return "", false
		}
		return strconv.Quote(e.Value), true
	}
	return "", false
}
