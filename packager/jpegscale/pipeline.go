package jpegscale

// pipelineDepth is how many rows of MCUs can be decoded ahead of the IDCT.
const pipelineDepth = 4

// pendingBlock is a decoded block waiting for its IDCT, which writes it at off in its
// component's plane.
type pendingBlock struct {
	blk block
	c   *component
	off int
}

// idctPipeline runs the IDCT of each decoded row of MCUs on another goroutine. Huffman
// decoding is sequential by nature; with the IDCT beside it, a scan takes about as long as its
// decoding alone where two cores are free.
type idctPipeline struct {
	free, full chan []pendingBlock
	done       chan struct{}
}

func startIDCT(rowBlocks int) *idctPipeline {
	p := &idctPipeline{
		free: make(chan []pendingBlock, pipelineDepth),
		full: make(chan []pendingBlock, pipelineDepth),
		done: make(chan struct{}),
	}
	for range pipelineDepth {
		p.free <- make([]pendingBlock, 0, rowBlocks)
	}
	go func() {
		defer close(p.done)
		for row := range p.full {
			for i := range row {
				pb := &row[i]
				pb.c.basis.idct(&pb.blk, pb.c.plane[pb.off:], pb.c.stride)
			}
			p.free <- row[:0]
		}
	}()
	return p
}

// next returns an empty row buffer, waiting while the IDCT is pipelineDepth rows behind.
func (p *idctPipeline) next() []pendingBlock { return <-p.free }

// submit hands a decoded row to the IDCT.
func (p *idctPipeline) submit(row []pendingBlock) { p.full <- row }

// finish waits until every submitted row is in the planes.
func (p *idctPipeline) finish() {
	close(p.full)
	<-p.done
}
