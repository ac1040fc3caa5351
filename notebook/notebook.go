package notebook

import "encoding/json"

// CellType is a cell's nbformat cell_type.
type CellType string

const (
	Code     CellType = "code"
	Markdown CellType = "markdown"
	Raw      CellType = "raw"
)

// Cell is the part of a notebook cell Datainsight reads. The cell's full JSON
// (outputs, attachments, unknown metadata) stays in the Notebook's bytes.
type Cell struct {
	Index  int      // position in the notebook's cells array, markdown included
	ID     string   // nbformat 4.5 cell id; "" in older notebooks
	Type   CellType //
	Source string   // the joined source
	Tags   []string // metadata.tags, in order
}

// Notebook is a parsed nbformat v4 notebook. Parse keeps the original bytes:
// Bytes returns them unchanged until SetTags or SetMetadata edits a part, and
// then only that part's bytes change.
type Notebook struct {
	Format      int // nbformat
	FormatMinor int // nbformat_minor
	Cells       []Cell

	// Language is the notebook's kernel language, lower-case ("python", "r",
	// ...), from metadata.kernelspec.language or metadata.language_info.name;
	// "" when the notebook names none.
	Language string

	// Metadata holds the notebook-level metadata object, key by key, raw.
	Metadata map[string]json.RawMessage

	doc *document // the original bytes and the spans edits replace
}
