// `express4` is Express 4 installed under an npm alias (`npm:express@^4`); its API is the one
// @types/express describes for the parts the tests use.
declare module 'express4' {
  import express from 'express'
  export default express
}
