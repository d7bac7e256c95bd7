package script

// Type is what an expression's value is, as far as the program text
// tells. Tracepoint fields and positional parameters are TypeUnknown: only
// the event's format (or the command line) says, and the planner has it.
type Type int

// The types of values.
const (
	TypeUnknown Type = iota // known only with the event's format or the parameters
	TypeInt
	TypeString
	TypeStack // kstack
	TypeTuple
	TypeVoid // printf(), delete()...: no value
	TypeAgg  // count(), hist()...: only as a map's value
)

var typeNames = [...]string{"unknown", "int", "string", "kstack", "tuple", "void", "aggregate"}

// String returns the type's name as messages say it.
func (t Type) String() string {
	if t >= 0 && int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "invalid"
}

// MapKind is what a map holds: a plain value or one aggregation. A map
// holds one kind everywhere in a program.
type MapKind int

// The kinds of map values.
const (
	MapUnknown MapKind = iota // assigned only tracepoint fields or parameters
	MapInt
	MapString
	MapTuple
	MapCount
	MapSum
	MapAvg
	MapMin
	MapMax
	MapStats
	MapHist
	MapLhist
)

var mapKindNames = [...]string{"unknown", "int", "string", "tuple", "count()", "sum()", "avg()", "min()", "max()", "stats()", "hist()", "lhist()"}

// String names the kind as messages say it: int, count(), hist()...
func (k MapKind) String() string {
	if k >= 0 && int(k) < len(mapKindNames) {
		return mapKindNames[k]
	}
	return "invalid"
}

// IsAggregate reports whether the map is an aggregation (count() and
// friends) rather than a plain value.
func (k MapKind) IsAggregate() bool { return k >= MapCount }

var aggKinds = map[string]MapKind{
	"count": MapCount, "sum": MapSum, "avg": MapAvg, "min": MapMin, "max": MapMax,
	"stats": MapStats, "hist": MapHist, "lhist": MapLhist,
}

// MapInfo is what the checker knows of one map.
type MapInfo struct {
	Name string // without @; "" for the bare @
	Pos  Pos    // first assignment
	Kind MapKind
	// Agg is the first aggregation call assigned (hist(x, 2), lhist(x, 0,
	// 100, 10)): the planner reads the bucket parameters from it.
	Agg *Call
	// Keys are the key types, one per key; nil for a map without keys.
	// TypeUnknown where only the event's format can tell.
	Keys    []Type
	keysSet bool
	keysPos Pos
	kindSet bool
}

// Display returns @name as the program writes it.
func (m *MapInfo) Display() string { return "@" + m.Name }

// Info is the checker's result: the maps, and each expression's type.
type Info struct {
	Maps     map[string]*MapInfo
	MapOrder []string // names in order of first assignment
	Types    map[Expr]Type
}
