// Vite's `?raw` imports: a file's text (the customer page's static files in tests).
declare module "*?raw" {
  const text: string;
  export default text;
}
