package script

import (
	"fmt"
	"strconv"
	"strings"
)

// String renders the literal as written.
func (n *IntLit) String() string {
	if n.Raw != "" {
		return n.Raw
	}
	return strconv.FormatUint(n.Value, 10)
}

// String renders the literal quoted, escapes re-applied.
func (n *StrLit) String() string { return strconv.Quote(n.Value) }

// String renders the builtin's name.
func (n *Builtin) String() string { return n.Name }

// String renders the identifier.
func (n *Ident) String() string { return n.Name }

// String renders $name.
func (n *VarRef) String() string { return "$" + n.Name }

// String renders @name[keys].
func (n *MapRef) String() string {
	if n.Keys == nil {
		return "@" + n.Name
	}
	return "@" + n.Name + "[" + exprList(n.Keys) + "]"
}

// String renders $N or $#.
func (n *Param) String() string {
	if n.Count {
		return "$#"
	}
	return "$" + strconv.Itoa(n.N)
}

// String renders (X Op Y).
func (n *Binary) String() string { return "(" + n.X.String() + " " + n.Op + " " + n.Y.String() + ")" }

// String renders the operator and its operand.
func (n *Unary) String() string {
	if n.Postfix {
		return n.X.String() + n.Op
	}
	return n.Op + n.X.String()
}

// String renders (Cond ? Then : Else).
func (n *Ternary) String() string {
	return "(" + n.Cond.String() + " ? " + n.Then.String() + " : " + n.Else.String() + ")"
}

// String renders name(args).
func (n *Call) String() string { return n.Name + "(" + exprList(n.Args) + ")" }

// String renders X.Name or X->Name.
func (n *Field) String() string {
	if n.Arrow {
		return n.X.String() + "->" + n.Name
	}
	return n.X.String() + "." + n.Name
}

// String renders X[Index].
func (n *Index) String() string { return n.X.String() + "[" + n.Index.String() + "]" }

// String renders (Type)X.
func (n *Cast) String() string { return "(" + n.Type.String() + ")" + n.X.String() }

// String renders (a, b).
func (n *Tuple) String() string { return "(" + exprList(n.Elems) + ")" }

// String renders sizeof(...).
func (n *Sizeof) String() string { return n.Name + "(" + n.Text + ")" }

func exprList(l []Expr) string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.String()
	}
	return strings.Join(s, ", ")
}

// String renders the spec's parts, the form golden files compare.
func (n *AttachPoint) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s kind=%s", strconv.Quote(n.Raw), n.Kind)
	add := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, " %s=%s", k, strconv.Quote(v))
		}
	}
	add("target", n.Target)
	add("provider", n.Provider)
	add("func", n.Func)
	if n.HasAddr {
		fmt.Fprintf(&b, " addr=%#x", n.Address)
	}
	if n.Offset != 0 {
		fmt.Fprintf(&b, " offset=%#x", n.Offset)
	}
	if n.Unit != "" {
		fmt.Fprintf(&b, " every=%d%s", n.Period, n.Unit)
	}
	if n.Wildcard() {
		b.WriteString(" wildcard")
	}
	return b.String()
}

// Dump renders the whole tree, one node a line with its position, indented
// by depth: the format of the golden .ast files, meant to be read in a
// diff.
func (prog *Program) Dump() string {
	d := &dumper{}
	d.line(0, "program")
	if prog.Shebang != "" {
		d.line(1, "shebang %s", strconv.Quote(prog.Shebang))
	}
	for _, in := range prog.Includes {
		d.line(1, "include %s %s", in.Pos, strconv.Quote(in.Text))
	}
	for _, c := range prog.CDefs {
		d.line(1, "cdef %s %s", c.Pos, strconv.Quote(c.Text))
	}
	for _, p := range prog.Probes {
		d.line(1, "probe %s", p.Pos)
		for _, ap := range p.AttachPoints {
			d.line(2, "attach %s %s", ap.Pos, ap)
		}
		if p.Pred != nil {
			d.line(2, "pred")
			d.expr(3, p.Pred)
		}
		d.block(2, p.Body)
	}
	return d.b.String()
}

// DumpExpr renders one expression as Dump does, for tests and debugging.
func DumpExpr(e Expr) string {
	d := &dumper{}
	d.expr(0, e)
	return d.b.String()
}

type dumper struct{ b strings.Builder }

func (d *dumper) line(depth int, format string, args ...any) {
	for i := 0; i < depth; i++ {
		d.b.WriteString("  ")
	}
	fmt.Fprintf(&d.b, format, args...)
	d.b.WriteByte('\n')
}

func (d *dumper) block(depth int, b *Block) {
	if b == nil {
		return
	}
	d.line(depth, "block %s", b.Pos)
	for _, s := range b.Stmts {
		d.stmt(depth+1, s)
	}
}

func (d *dumper) stmt(depth int, s Stmt) {
	switch s := s.(type) {
	case *ExprStmt:
		d.line(depth, "expr")
		d.expr(depth+1, s.X)
	case *AssignStmt:
		d.line(depth, "assign %s %s", s.Pos, s.Op)
		d.expr(depth+1, s.LHS)
		d.expr(depth+1, s.RHS)
	case *IfStmt:
		d.line(depth, "if %s", s.Pos)
		d.expr(depth+1, s.Cond)
		d.block(depth+1, s.Then)
		if s.Else != nil {
			d.line(depth+1, "else")
			d.stmt(depth+2, s.Else)
		}
	case *Block:
		d.block(depth, s)
	case *WhileStmt:
		d.line(depth, "while %s", s.Pos)
		d.expr(depth+1, s.Cond)
		d.block(depth+1, s.Body)
	case *UnrollStmt:
		d.line(depth, "unroll %s", s.Pos)
		d.expr(depth+1, s.Count)
		d.block(depth+1, s.Body)
	case *ReturnStmt:
		d.line(depth, "return %s", s.Pos)
		if s.Value != nil {
			d.expr(depth+1, s.Value)
		}
	case *JumpStmt:
		d.line(depth, "%s %s", s.Tok, s.Pos)
	}
}

func (d *dumper) expr(depth int, e Expr) {
	switch e := e.(type) {
	case *IntLit:
		d.line(depth, "int %s %s", e.Pos, e)
	case *StrLit:
		d.line(depth, "string %s %s", e.Pos, e)
	case *Builtin:
		d.line(depth, "builtin %s %s", e.Pos, e.Name)
	case *Ident:
		d.line(depth, "ident %s %s", e.Pos, e.Name)
	case *VarRef:
		d.line(depth, "var %s $%s", e.Pos, e.Name)
	case *Param:
		d.line(depth, "param %s %s", e.Pos, e)
	case *MapRef:
		d.line(depth, "map %s @%s", e.Pos, e.Name)
		for _, k := range e.Keys {
			d.expr(depth+1, k)
		}
	case *Binary:
		d.line(depth, "binary %s %s", e.Pos, e.Op)
		d.expr(depth+1, e.X)
		d.expr(depth+1, e.Y)
	case *Unary:
		fix := "prefix"
		if e.Postfix {
			fix = "postfix"
		}
		d.line(depth, "unary %s %s %s", e.Pos, fix, e.Op)
		d.expr(depth+1, e.X)
	case *Ternary:
		d.line(depth, "ternary %s", e.Pos)
		d.expr(depth+1, e.Cond)
		d.expr(depth+1, e.Then)
		d.expr(depth+1, e.Else)
	case *Call:
		d.line(depth, "call %s %s", e.Pos, e.Name)
		for _, a := range e.Args {
			d.expr(depth+1, a)
		}
	case *Field:
		op := "."
		if e.Arrow {
			op = "->"
		}
		d.line(depth, "field %s %s%s", e.Pos, op, e.Name)
		d.expr(depth+1, e.X)
	case *Index:
		d.line(depth, "index %s", e.Pos)
		d.expr(depth+1, e.X)
		d.expr(depth+1, e.Index)
	case *Cast:
		d.line(depth, "cast %s (%s)", e.Pos, e.Type)
		d.expr(depth+1, e.X)
	case *Tuple:
		d.line(depth, "tuple %s", e.Pos)
		for _, x := range e.Elems {
			d.expr(depth+1, x)
		}
	case *Sizeof:
		d.line(depth, "%s %s %s", e.Name, e.Pos, strconv.Quote(e.Text))
	}
}
