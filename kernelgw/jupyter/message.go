package jupyter

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ProtocolVersion is the messaging protocol version this client speaks.
const ProtocolVersion = "5.3"

// The kernel's channels as they are named on the WebSocket.
const (
	ChannelShell   = "shell"
	ChannelIOPub   = "iopub"
	ChannelControl = "control"
	ChannelStdin   = "stdin"
)

// Header is a message header (also used as parent_header).
type Header struct {
	MsgID    string `json:"msg_id"`
	MsgType  string `json:"msg_type"`
	Session  string `json:"session"`
	Username string `json:"username"`
	Date     string `json:"date,omitempty"` // kept as sent: kernels disagree on the format
	Version  string `json:"version"`
}

// Message is one kernel message as it travels on the channels WebSocket.
// Content and Metadata stay raw until a handler knows what to expect.
type Message struct {
	Channel      string            `json:"channel"`
	Header       Header            `json:"header"`
	ParentHeader Header            `json:"parent_header"`
	Metadata     json.RawMessage   `json:"metadata"`
	Content      json.RawMessage   `json:"content"`
	Buffers      []json.RawMessage `json:"buffers,omitempty"`
}

// wireMessage lets Decode tell a missing or null parent_header (normal for
// messages that answer nothing) from a malformed one.
type wireMessage struct {
	Channel      string          `json:"channel"`
	Header       *Header         `json:"header"`
	ParentHeader *Header         `json:"parent_header"`
	Metadata     json.RawMessage `json:"metadata"`
	Content      json.RawMessage `json:"content"`
}

// Decode parses a text frame from the channels WebSocket. It checks the
// shape every handler relies on (an object with a header naming its type)
// and nothing more: content is decoded later, by whoever expects it.
func Decode(data []byte) (*Message, error) {
	var w wireMessage
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("decode kernel message: %w", err)
	}
	if w.Header == nil {
		return nil, errors.New("decode kernel message: no header")
	}
	if w.Header.MsgType == "" {
		return nil, errors.New("decode kernel message: header has no msg_type")
	}
	m := &Message{Channel: w.Channel, Header: *w.Header, Metadata: w.Metadata, Content: w.Content}
	if w.ParentHeader != nil {
		m.ParentHeader = *w.ParentHeader
	}
	return m, nil
}

// maxBuffers bounds the offset table of a binary frame; real messages carry
// a handful of buffers.
const maxBuffers = 1 << 16

// DecodeBinary parses a binary frame, which the server uses for messages
// carrying buffers (widgets, for one): a big-endian uint32 count n, n
// uint32 offsets into the frame, the JSON message from the first offset to
// the second, then the buffers. Buffers are dropped: nothing here uses them.
func DecodeBinary(data []byte) (*Message, error) {
	if len(data) < 8 {
		return nil, errors.New("decode binary kernel message: too short")
	}
	n := binary.BigEndian.Uint32(data)
	if n == 0 || n > maxBuffers || uint64(len(data)) < 4+4*uint64(n) {
		return nil, fmt.Errorf("decode binary kernel message: bad offset count %d", n)
	}
	start := uint64(binary.BigEndian.Uint32(data[4:]))
	end := uint64(len(data))
	if n > 1 {
		end = uint64(binary.BigEndian.Uint32(data[8:]))
	}
	if start < 4+4*uint64(n) || start > end || end > uint64(len(data)) {
		return nil, errors.New("decode binary kernel message: offsets out of range")
	}
	return Decode(data[start:end])
}

// newID returns a random UUID-4 string, the form Jupyter uses for message
// and session ids.
func newID() string {
	var b [16]byte
	// crypto/rand.Read never fails on supported platforms (Go 1.24+).
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// newMessage builds a request from this client.
func newMessage(channel, msgType, session string, content any) (*Message, error) {
	raw, err := json.Marshal(content)
	if err != nil {
		return nil, fmt.Errorf("encode %s content: %w", msgType, err)
	}
	return &Message{
		Channel: channel,
		Header: Header{
			MsgID:    newID(),
			MsgType:  msgType,
			Session:  session,
			Username: "datainsight",
			Date:     time.Now().UTC().Format("2006-01-02T15:04:05.000000Z"),
			Version:  ProtocolVersion,
		},
		Metadata: json.RawMessage("{}"),
		Content:  raw,
	}, nil
}

// encode renders m as a text frame. An empty parent_header must be {}, not
// a header of empty strings, or the kernel takes it for a real parent.
func (m *Message) encode() ([]byte, error) {
	type out struct {
		Channel      string            `json:"channel"`
		Header       Header            `json:"header"`
		ParentHeader json.RawMessage   `json:"parent_header"`
		Metadata     json.RawMessage   `json:"metadata"`
		Content      json.RawMessage   `json:"content"`
		Buffers      []json.RawMessage `json:"buffers"`
	}
	o := out{Channel: m.Channel, Header: m.Header, ParentHeader: json.RawMessage("{}"),
		Metadata: m.Metadata, Content: m.Content, Buffers: m.Buffers}
	if m.ParentHeader != (Header{}) {
		p, err := json.Marshal(m.ParentHeader)
		if err != nil {
			return nil, err
		}
		o.ParentHeader = p
	}
	if len(o.Metadata) == 0 {
		o.Metadata = json.RawMessage("{}")
	}
	if len(o.Content) == 0 {
		o.Content = json.RawMessage("{}")
	}
	if o.Buffers == nil {
		o.Buffers = []json.RawMessage{}
	}
	return json.Marshal(o)
}

// Contents this client sends.

type executeRequest struct {
	Code            string            `json:"code"`
	Silent          bool              `json:"silent"`
	StoreHistory    bool              `json:"store_history"`
	UserExpressions map[string]string `json:"user_expressions"`
	AllowStdin      bool              `json:"allow_stdin"`
	StopOnError     bool              `json:"stop_on_error"`
}

// Contents this client reads. Fields a hostile peer could make huge are
// bounded by the frame size limit; fields of the wrong JSON type make the
// whole content undecodable, and the message is dropped.

type streamContent struct {
	Name string `json:"name"`
	Text string `json:"text"`
}

type dataContent struct {
	ExecutionCount *int                       `json:"execution_count"`
	Data           map[string]json.RawMessage `json:"data"`
	Metadata       json.RawMessage            `json:"metadata"`
	Transient      struct {
		DisplayID string `json:"display_id"`
	} `json:"transient"`
}

type errorContent struct {
	EName     string   `json:"ename"`
	EValue    string   `json:"evalue"`
	Traceback []string `json:"traceback"`
}

type statusContent struct {
	ExecutionState string `json:"execution_state"`
}

type clearContent struct {
	Wait bool `json:"wait"`
}

type executeReply struct {
	Status          string                     `json:"status"`
	ExecutionCount  *int                       `json:"execution_count"`
	UserExpressions map[string]json.RawMessage `json:"user_expressions"`
	errorContent
}

// KernelInfo is what the kernel says about itself in kernel_info_reply.
type KernelInfo struct {
	ProtocolVersion       string       `json:"protocol_version"`
	Implementation        string       `json:"implementation"`
	ImplementationVersion string       `json:"implementation_version"`
	LanguageInfo          LanguageInfo `json:"language_info"`
	Banner                string       `json:"banner"`
}

// LanguageInfo describes the kernel's language (for IPython: Python's
// version, which a run's image pins).
type LanguageInfo struct {
	Name          string `json:"name"`
	Version       string `json:"version"`
	Mimetype      string `json:"mimetype"`
	FileExtension string `json:"file_extension"`
}

// event is what one incoming message means to this client, worked out
// without touching any state so that it can be fuzzed on its own.
type event struct {
	kind    eventKind
	parent  string // parent_header.msg_id
	session string // header.session: the sender's session
	state   string // status: execution_state
	out     Output // eventOutput
	clear   bool   // eventClear: wait for the next output before clearing
	reply   executeReply
	info    KernelInfo
	restart bool // eventShutdownReply: the kernel shuts down to restart
}

type eventKind int

const (
	eventIgnore eventKind = iota
	eventStatus
	eventOutput
	eventClear
	eventExecuteReply
	eventKernelInfoReply
	eventShutdownReply
)

// classify interprets m. An error means the message was malformed and is
// dropped; messages of no interest are eventIgnore.
func classify(m *Message) (event, error) {
	ev := event{parent: m.ParentHeader.MsgID, session: m.Header.Session}
	decode := func(v any) error {
		if len(m.Content) == 0 || bytes.Equal(m.Content, []byte("null")) {
			return fmt.Errorf("%s on %s: no content", m.Header.MsgType, m.Channel)
		}
		if err := json.Unmarshal(m.Content, v); err != nil {
			return fmt.Errorf("%s on %s: %w", m.Header.MsgType, m.Channel, err)
		}
		return nil
	}
	switch m.Channel {
	case ChannelIOPub:
		switch m.Header.MsgType {
		case "status":
			var c statusContent
			if err := decode(&c); err != nil {
				return ev, err
			}
			ev.kind, ev.state = eventStatus, c.ExecutionState
		case "stream":
			var c streamContent
			if err := decode(&c); err != nil {
				return ev, err
			}
			ev.kind = eventOutput
			ev.out = Output{Type: OutputStream, Name: c.Name, Text: c.Text}
		case "execute_result", "display_data", "update_display_data":
			var c dataContent
			if err := decode(&c); err != nil {
				return ev, err
			}
			ev.kind = eventOutput
			ev.out = Output{Type: OutputType(m.Header.MsgType), Data: c.Data, Metadata: c.Metadata, DisplayID: c.Transient.DisplayID}
			if c.ExecutionCount != nil {
				ev.out.ExecutionCount = *c.ExecutionCount
			}
		case "error":
			var c errorContent
			if err := decode(&c); err != nil {
				return ev, err
			}
			ev.kind = eventOutput
			ev.out = Output{Type: OutputError, EName: c.EName, EValue: c.EValue, Traceback: c.Traceback}
		case "shutdown_reply":
			// IPython broadcasts it when asked to shut down, whoever
			// asked: the first sign of a restart (or of the end).
			var c struct {
				Restart bool `json:"restart"`
			}
			if err := decode(&c); err != nil {
				return ev, err
			}
			ev.kind, ev.restart = eventShutdownReply, c.Restart
		case "clear_output":
			var c clearContent
			if err := decode(&c); err != nil {
				return ev, err
			}
			ev.kind, ev.clear = eventClear, c.Wait
		}
	case ChannelShell, ChannelControl:
		switch m.Header.MsgType {
		case "execute_reply":
			if err := decode(&ev.reply); err != nil {
				return ev, err
			}
			ev.kind = eventExecuteReply
		case "kernel_info_reply":
			if err := decode(&ev.info); err != nil {
				return ev, err
			}
			ev.kind = eventKernelInfoReply
		}
	}
	return ev, nil
}
