package parse

// Placeholders owned by the text renderer (printfmt.go/text.go), replaced there.
type printer struct{}
type specialKind uint8

func specialFor(*Schema) specialKind { return 0 }
