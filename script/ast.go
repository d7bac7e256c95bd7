package script

// Node is any element of the AST; every node knows where it starts.
type Node interface {
	Position() Pos
}

// Expr is an expression node. String renders it as bpftrace source with
// every binary operation parenthesized, so the tree shape shows.
type Expr interface {
	Node
	String() string
	exprNode()
}

// Stmt is a statement node.
type Stmt interface {
	Node
	stmtNode()
}

// Program is a parsed bpftrace program.
type Program struct {
	Shebang  string     // the #! line without #!, if the text has one
	Includes []*Include // #include and other preprocessor lines, kept for the record
	CDefs    []*CDef    // top-level struct/union/enum definitions, kept as text
	Probes   []*Probe
}

// Include is a preprocessor line (#include <linux/sched.h>, #define ...).
// tracer has no C preprocessor; includes matter only for struct casts,
// which are refused, so they are kept and otherwise ignored.
type Include struct {
	Pos  Pos
	Text string // the whole line, from #
}

// Position returns where the line starts.
func (n *Include) Position() Pos { return n.Pos }

// CDef is a top-level C definition (struct foo { ... };). Kept as text:
// without BTF or headers tracer cannot use it, but a program that defines
// a struct and never casts to it is still fine.
type CDef struct {
	Pos  Pos
	Text string
}

// Position returns where the definition starts.
func (n *CDef) Position() Pos { return n.Pos }

// Probe is one action: its attach points (one or more, comma separated),
// an optional predicate and the block.
type Probe struct {
	Pos          Pos
	AttachPoints []*AttachPoint
	Pred         Expr // nil without /predicate/
	Body         *Block
}

// Position returns where the first attach point starts.
func (n *Probe) Position() Pos { return n.Pos }

// ProbeKind is the provider of an attach point, aliases folded
// (t: is KindTracepoint).
type ProbeKind int

// The probe kinds. Those after KindInterval are parsed so that the checker
// can refuse them precisely: ftrace has no equivalent.
const (
	KindInvalid ProbeKind = iota
	KindBegin
	KindEnd
	KindTracepoint
	KindKprobe
	KindKretprobe
	KindUprobe
	KindUretprobe
	KindUSDT
	KindInterval
	KindProfile
	KindSoftware
	KindHardware
	KindWatchpoint
	KindAsyncWatchpoint
	KindKfunc
	KindKretfunc
	KindRawTracepoint
	KindIter
)

var kindNames = [...]string{
	KindInvalid:         "invalid",
	KindBegin:           "BEGIN",
	KindEnd:             "END",
	KindTracepoint:      "tracepoint",
	KindKprobe:          "kprobe",
	KindKretprobe:       "kretprobe",
	KindUprobe:          "uprobe",
	KindUretprobe:       "uretprobe",
	KindUSDT:            "usdt",
	KindInterval:        "interval",
	KindProfile:         "profile",
	KindSoftware:        "software",
	KindHardware:        "hardware",
	KindWatchpoint:      "watchpoint",
	KindAsyncWatchpoint: "asyncwatchpoint",
	KindKfunc:           "kfunc",
	KindKretfunc:        "kretfunc",
	KindRawTracepoint:   "rawtracepoint",
	KindIter:            "iter",
}

// String returns the provider's full name (tracepoint, kprobe, BEGIN...).
func (k ProbeKind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "invalid"
}

// AttachPoint is one probe spec, split into the parts a planner needs.
// Which fields are set depends on Kind:
//
//	tracepoint:SYS:EVENT          Target=SYS Func=EVENT (globs kept)
//	kprobe:FUNC[+OFF]             Func, Offset
//	kretprobe:FUNC                Func
//	uprobe:BIN:SYM[+OFF]|ADDR     Target=BIN, Func or Address, Offset
//	usdt:BIN[:PROVIDER]:NAME      Target=BIN, Provider, Func=NAME
//	interval:UNIT:N               Unit (s, ms, us, hz), Period=N
//	profile:UNIT:N (refused)      Unit, Period
type AttachPoint struct {
	Pos      Pos
	Raw      string // as written
	Kind     ProbeKind
	Prefix   string // the provider as written: "t", "tracepoint", "k"...
	Target   string // tracepoint system, or binary path for uprobes and usdt
	Provider string // usdt provider (namespace); "" when omitted
	Func     string // event, function, symbol or usdt probe name
	Address  uint64 // uprobe at an address (HasAddr)
	HasAddr  bool
	Offset   uint64 // +OFF after a function or symbol
	Unit     string // interval and profile unit
	Period   uint64 // interval and profile count
}

// Position returns where the spec starts.
func (n *AttachPoint) Position() Pos { return n.Pos }

// Wildcard reports whether the spec names several events or functions
// with a glob (*, ?, [...]), which the planner must expand.
func (n *AttachPoint) Wildcard() bool {
	return hasGlob(n.Target) || hasGlob(n.Func) || hasGlob(n.Provider)
}

// Block is a braced statement list.
type Block struct {
	Pos   Pos // the {
	Stmts []Stmt
}

// Position returns where the { is.
func (n *Block) Position() Pos { return n.Pos }

// ExprStmt is an expression used as a statement (a call, @x++).
type ExprStmt struct {
	X Expr
}

// AssignStmt is an assignment to a map or a variable, plain (=) or
// compound (+=, -=, *=, /=, %=, &=, |=, ^=, <<=, >>=).
type AssignStmt struct {
	Pos Pos    // the operator
	Op  string // "=" or the compound operator
	LHS Expr   // *MapRef or *VarRef
	RHS Expr
}

// IfStmt is if (Cond) Then [else Else]; Else is nil, a *Block or an
// *IfStmt for else if.
type IfStmt struct {
	Pos  Pos
	Cond Expr
	Then *Block
	Else Stmt
}

// UnrollStmt repeats Body Count times (bpftrace bounds it to 1..100).
type UnrollStmt struct {
	Pos   Pos
	Count Expr // an *IntLit or a positional parameter
	Body  *Block
}

// WhileStmt is a while loop; tracer runs it in user space with an
// iteration bound, as BPF's verifier bounds bpftrace's.
type WhileStmt struct {
	Pos  Pos
	Cond Expr
	Body *Block
}

// ReturnStmt ends the action (a value, if any, is ignored in probes).
type ReturnStmt struct {
	Pos   Pos
	Value Expr
}

// JumpStmt is break or continue inside a while loop.
type JumpStmt struct {
	Pos Pos
	Tok string // "break" or "continue"
}

// Position returns where the statement starts.
func (n *ExprStmt) Position() Pos { return n.X.Position() }

// Position returns where the assigned map or variable is.
func (n *AssignStmt) Position() Pos { return n.LHS.Position() }

// Position returns where "if" is.
func (n *IfStmt) Position() Pos { return n.Pos }

// Position returns where "unroll" is.
func (n *UnrollStmt) Position() Pos { return n.Pos }

// Position returns where "while" is.
func (n *WhileStmt) Position() Pos { return n.Pos }

// Position returns where "return" is.
func (n *ReturnStmt) Position() Pos { return n.Pos }

// Position returns where the keyword is.
func (n *JumpStmt) Position() Pos { return n.Pos }

func (*ExprStmt) stmtNode()   {}
func (*AssignStmt) stmtNode() {}
func (*IfStmt) stmtNode()     {}
func (*UnrollStmt) stmtNode() {}
func (*WhileStmt) stmtNode()  {}
func (*ReturnStmt) stmtNode() {}
func (*JumpStmt) stmtNode()   {}
func (*Block) stmtNode()      {}

// IntLit is an integer literal; Raw keeps the spelling (0x10, 1_000).
type IntLit struct {
	Pos   Pos
	Value uint64
	Raw   string
}

// StrLit is a string literal, escapes resolved.
type StrLit struct {
	Pos   Pos
	Value string
}

// Builtin is a builtin variable: pid, comm, args, arg0, retval...
type Builtin struct {
	Pos  Pos
	Name string
}

// Ident is a bare identifier that is not a builtin: a stack mode
// (kstack(perf)), an address family name, or a mistake the checker names.
type Ident struct {
	Pos  Pos
	Name string
}

// VarRef is a scratch variable $name, local to its action.
type VarRef struct {
	Pos  Pos
	Name string
}

// MapRef is a map @name or @name[k1, k2]; Name is "" for the bare @.
type MapRef struct {
	Pos  Pos
	Name string
	Keys []Expr // nil for a map without keys
}

// Param is a positional parameter $N, or $# (Count) for their number.
type Param struct {
	Pos   Pos
	N     int
	Count bool
}

// Binary is X Op Y.
type Binary struct {
	Pos  Pos // the operator
	Op   string
	X, Y Expr
}

// Unary is Op X (! - ~ * &), or X++ / X-- / ++X / --X.
type Unary struct {
	Pos     Pos // the operator
	Op      string
	X       Expr
	Postfix bool
}

// Ternary is Cond ? Then : Else.
type Ternary struct {
	Pos              Pos // the ?
	Cond, Then, Else Expr
}

// Call is a function call name(args).
type Call struct {
	Pos  Pos
	Name string
	Args []Expr
}

// Field is X.Name or X->Name (Arrow).
type Field struct {
	Pos   Pos // the . or ->
	X     Expr
	Name  string
	Arrow bool
}

// Index is X[Index] on something that is not a map (args->argv[0]).
type Index struct {
	Pos   Pos // the [
	X     Expr
	Index Expr
}

// TypeName is the type in a cast: an integer type (uint32), or a struct
// or union (refused), with its pointer depth.
type TypeName struct {
	Name   string // "uint32", "foo" for struct foo
	Struct string // "struct" or "union" when it is one, else ""
	Ptr    int    // number of *
}

// String renders the type as written: struct foo *.
func (t TypeName) String() string {
	s := t.Name
	if t.Struct != "" {
		s = t.Struct + " " + s
	}
	if t.Ptr > 0 {
		s += " "
		for i := 0; i < t.Ptr; i++ {
			s += "*"
		}
	}
	return s
}

// Cast is (Type)X.
type Cast struct {
	Pos  Pos // the (
	Type TypeName
	X    Expr
}

// Tuple is (a, b, ...), at least two elements.
type Tuple struct {
	Pos   Pos
	Elems []Expr
}

// Sizeof is sizeof(X or type), parsed so the checker can refuse it by name.
type Sizeof struct {
	Pos  Pos
	Name string // "sizeof" or "offsetof"
	Text string
}

// Position returns where the node starts.
func (n *IntLit) Position() Pos { return n.Pos }

// Position returns where the node starts.
func (n *StrLit) Position() Pos { return n.Pos }

// Position returns where the node starts.
func (n *Builtin) Position() Pos { return n.Pos }

// Position returns where the node starts.
func (n *Ident) Position() Pos { return n.Pos }

// Position returns where the node starts.
func (n *VarRef) Position() Pos { return n.Pos }

// Position returns where the node starts.
func (n *MapRef) Position() Pos { return n.Pos }

// Position returns where the node starts.
func (n *Param) Position() Pos { return n.Pos }

// Position returns where the operator is.
func (n *Binary) Position() Pos { return n.Pos }

// Position returns where the operator is.
func (n *Unary) Position() Pos { return n.Pos }

// Position returns where the ? is.
func (n *Ternary) Position() Pos { return n.Pos }

// Position returns where the function name is.
func (n *Call) Position() Pos { return n.Pos }

// Position returns where the . or -> is.
func (n *Field) Position() Pos { return n.Pos }

// Position returns where the [ is.
func (n *Index) Position() Pos { return n.Pos }

// Position returns where the ( is.
func (n *Cast) Position() Pos { return n.Pos }

// Position returns where the ( is.
func (n *Tuple) Position() Pos { return n.Pos }

// Position returns where the keyword is.
func (n *Sizeof) Position() Pos { return n.Pos }

func (*IntLit) exprNode()  {}
func (*StrLit) exprNode()  {}
func (*Builtin) exprNode() {}
func (*Ident) exprNode()   {}
func (*VarRef) exprNode()  {}
func (*MapRef) exprNode()  {}
func (*Param) exprNode()   {}
func (*Binary) exprNode()  {}
func (*Unary) exprNode()   {}
func (*Ternary) exprNode() {}
func (*Call) exprNode()    {}
func (*Field) exprNode()   {}
func (*Index) exprNode()   {}
func (*Cast) exprNode()    {}
func (*Tuple) exprNode()   {}
func (*Sizeof) exprNode()  {}
