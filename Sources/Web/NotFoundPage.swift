import Hummingbird

/// An address nothing answers gets a page that says so (with a way home), not an empty 404.
struct NotFoundPage: RouterMiddleware {
    typealias Context = BasicRequestContext
    let app: WebApp

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            return app.message(.notFound, "Page not found", "There is no page at this address. Check it, or go back to the home page.", viewer: nil)
        }
    }
}
